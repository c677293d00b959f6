import { newUser } from '../client.mjs';
import { median, workerdCpuMs } from '../harness.mjs';

/**
 * Issue 21: an eval run of 500 rows on the mock model, through the local `tiangong-evals` queue
 * (Miniflare runs the consumer as wrangler.toml declares it: batches of up to 4 messages of 10
 * rows, 2 batches at once). Against a bare chat turn on the same agent:
 * - wall: the median latency of 50 chat turns one after another, and the run's wall time per row
 *   (rows/s) at concurrency 1 and at the default 4;
 * - the platform's overhead per row: the median row `latency_ms` (the agent turn as the consumer
 *   ran it) against the chat turn's latency, and workerd CPU per row against CPU per chat turn
 *   (the polling's own CPU taken out, as the goals scenario does);
 * - exactly once: results per row and rows passed, read from D1.
 */
const ROWS = 500;

export default async function evals(ctx) {
  const user = await newUser(ctx, 'evals');
  const token = user.token;
  const db = await ctx.mf.getD1Database('DB');
  const agent = await ctx.api('/api/v1/agents', { token, json: { name: 'Bench eval agent' } });

  // A bare chat turn on the same agent: sequential, so latency and CPU are per turn.
  for (let i = 0; i < 5; i++) await ctx.api(`/api/v1/agent-chat/${agent.id}`, { token, json: { message: `warm ${i}` } });
  const chatLatencies = [];
  const chatCpuBefore = workerdCpuMs();
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await ctx.api(`/api/v1/agent-chat/${agent.id}`, { token, json: { message: `question ${i}` } });
    chatLatencies.push(performance.now() - t);
  }
  const chatCpu = (workerdCpuMs() - chatCpuBefore) / 50;
  const chatMedian = median(chatLatencies);
  ctx.print(`bare chat turn (50, one at a time)     median ${chatMedian.toFixed(1)} ms, workerd CPU ${chatCpu.toFixed(1)} ms a turn`);

  const rows = Array.from({ length: ROWS }, (_, i) => ({ input: `row ${i}`, expected: i % 10 === 9 ? 'not the echo' : `echo: row ${i}` }));
  const ds = await ctx.api('/api/v1/evals/datasets', { token, json: { name: 'bench 500', rows } });

  async function run(concurrency) {
    const poll = async () => ctx.api(`/api/v1/evals/runs/${id}`, { token });
    const started = performance.now();
    const cpuBefore = workerdCpuMs();
    const created = await ctx.api('/api/v1/evals/runs', {
      token,
      json: { dataset_id: ds.id, target: { type: 'agent', agent_id: agent.id }, scorers: [{ type: 'exact_match' }, { type: 'contains', value: 'echo' }], concurrency },
    });
    const id = created.id;
    let state = created;
    let polls = 0;
    while (['queued', 'running'].includes(state.status)) {
      await new Promise((r) => setTimeout(r, 100));
      polls++;
      state = await poll();
      if (performance.now() - started > 600_000) throw new Error('the eval run did not finish in 10 minutes');
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuUsed = workerdCpuMs() - cpuBefore;
    const pollCpuBefore = workerdCpuMs();
    for (let i = 0; i < polls; i++) await poll();
    const cpuPerRow = (cpuUsed - (workerdCpuMs() - pollCpuBefore)) / ROWS;
    const stored = await db.prepare('SELECT count(*) AS results, count(DISTINCT row_id) AS rows_, sum(passed) AS passed FROM eval_results WHERE run_id = ?').bind(id).first();
    const latencies = (await db.prepare('SELECT latency_ms FROM eval_results WHERE run_id = ?').bind(id).all()).results.map((r) => r.latency_ms);
    const rowMedian = median(latencies);
    ctx.print(
      `eval run, ${ROWS} rows, concurrency ${concurrency}        ${state.status}: ${seconds.toFixed(1)} s wall, ${(ROWS / seconds).toFixed(1)} rows/s, ` +
        `${((seconds * 1000) / ROWS).toFixed(1)} ms wall a row; row latency median ${rowMedian.toFixed(1)} ms (chat turn ${chatMedian.toFixed(1)} ms); ` +
        `workerd CPU ${cpuPerRow.toFixed(1)} ms a row (chat turn ${chatCpu.toFixed(1)} ms: ${(cpuPerRow / chatCpu).toFixed(2)}×); ` +
        `${stored.results} results for ${stored.rows_} rows, ${stored.passed} passed (expected ${ROWS - ROWS / 10})`,
    );
  }

  await run(1);
  await run(4);
}
