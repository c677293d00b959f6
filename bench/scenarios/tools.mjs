import { newUser } from '../client.mjs';

const TRIVIAL = { source: 'function main({ a, b }) { return a + b }', arguments: { a: 1, b: 2 } };

/**
 * Issue 5: sandbox cold and warm invocation of a trivial function (p50/p99), and the overhead of
 * builtin tools through POST /tools/{id}/use against the floor.
 */
export default async function tools(ctx) {
  const user = await newUser(ctx, 'tools');
  const post = (json) => ({ method: 'POST', headers: { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(json) });

  // Cold: the first sandbox call of this isolate instantiates QuickJS; one sample per process.
  const t0 = performance.now();
  const first = await fetch(ctx.url + '/api/v1/tools/test/code', post(TRIVIAL));
  const cold = performance.now() - t0;
  if (first.status !== 200) throw new Error(`sandbox call failed: ${first.status} ${await first.text()}`);
  const t1 = performance.now();
  await (await fetch(ctx.url + '/api/v1/tools/test/code', post(TRIVIAL))).text();
  ctx.print(`sandbox cold (first call, instantiates QuickJS): ${cold.toFixed(1)} ms; next call ${(performance.now() - t1).toFixed(1)} ms`);

  // Warm: the interpreter is loaded; each call still gets a fresh QuickJS runtime and context.
  await ctx.http('POST /tools/test/code (trivial, warm sandbox)', () => [ctx.url + '/api/v1/tools/test/code', post(TRIVIAL)], { requests: 1000, expectStatus: 200 });
  await ctx.http('POST /tools/run_javascript/use (warm sandbox)', () => [ctx.url + '/api/v1/tools/run_javascript/use', post({ arguments: { code: '1 + 2' } })], { requests: 1000, expectStatus: 200 });

  // Builtin tool overhead: auth, schema validation, the tool, and the tool_usage insert.
  await ctx.http('POST /tools/calculator/use', () => [ctx.url + '/api/v1/tools/calculator/use', post({ arguments: { expression: '2 * (3 + 4)' } })], { requests: 2000, expectStatus: 200 });
  await ctx.http('POST /tools/uuid_generate/use', () => [ctx.url + '/api/v1/tools/uuid_generate/use', post({ arguments: {} })], { requests: 2000, expectStatus: 200 });
  await ctx.http('GET /tools/builtin', () => [ctx.url + '/api/v1/tools/builtin', { headers: { Authorization: `Bearer ${user.token}` } }], { requests: 1000, expectStatus: 200 });
}
