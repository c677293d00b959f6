import { newUser } from '../client.mjs';

/** Issue 3: agent create and agent get against the floor. */
export default async function agents(ctx) {
  const user = await newUser(ctx, 'agents');
  const headers = { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' };
  const body = (i) =>
    JSON.stringify({
      name: `bench agent ${i}`,
      description: 'benchmark',
      system_prompt: 'You are a helpful assistant.',
      model_config: { provider: 'mock', model_name: 'mock-1', temperature: 0.7 },
      iteration_limit: 15,
      include_tools: [],
      workflow_config: {
        nodes: [
          { id: 'start', type: 'start' },
          { id: 'agent', type: 'agent' },
          { id: 'end', type: 'end' },
        ],
        edges: [
          { source: 'start', target: 'agent' },
          { source: 'agent', target: 'end' },
        ],
      },
    });
  await ctx.http('POST /api/v1/agents', (i) => [ctx.url + '/api/v1/agents', { method: 'POST', headers, body: body(i) }], { requests: 1000, expectStatus: 201 });
  const agent = await ctx.api('/api/v1/agents', { token: user.token, json: JSON.parse(body('get')) });
  await ctx.http('GET /api/v1/agents/{id}', () => [ctx.url + `/api/v1/agents/${agent.id}`, { headers }], { requests: 2000, expectStatus: 200 });
}
