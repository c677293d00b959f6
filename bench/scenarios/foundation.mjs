import { newUser } from '../client.mjs';

/** Issue 2: GET /health and GET /api/v1/auth/me against the floor. */
export default async function foundation(ctx) {
  await ctx.http('GET /health', () => [ctx.url + '/health'], { requests: 2000, expectStatus: 200 });
  const user = await newUser(ctx);
  const init = { headers: { Authorization: `Bearer ${user.token}` } };
  await ctx.http('GET /api/v1/auth/me', () => [ctx.url + '/api/v1/auth/me', init], { requests: 2000, expectStatus: 200 });
}
