import { newUser } from '../client.mjs';
import { median } from '../harness.mjs';

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * Issue 10.
 * 1. The cost of audit logging on a write: `PUT /api/v1/agents/{id}` with recording (audit row +
 *    request line, sent to the audit queue in waitUntil and written by its consumer in batches) and without (`X-Bench-Recording: off`, honoured only
 *    because the bench config sets BENCH_RECORDING_OPT_OUT), in the same run.
 * 2. WebSocket broadcast latency in a collaboration room of 50 clients: one client sends edits
 *    one after another; for each, the time until each of the 50 clients (sender included, as
 *    every client applies edits in server order) received it, and until the last one did.
 */
export default async function governance(ctx) {
  const user = await newUser(ctx, 'governance');
  const token = user.token;
  const agents = [];
  for (let i = 0; i < 64; i++) agents.push(await ctx.api('/api/v1/agents', { token, json: { name: `gov ${i}`, model_config: { provider: 'mock', model_name: 'mock-1' } } }));

  const db = await ctx.mf.getD1Database('DB');
  const audited = async () => (await db.prepare('SELECT count(*) AS n FROM audit_logs WHERE user_id = ?').bind(user.id).first()).n;
  // Rows arrive through the audit queue (batches close after 1 s locally): the count once it
  // has not moved for 1.5 s (waiting at most 15 s), so each run is credited with its own rows.
  const settled = async () => {
    let last = await audited();
    for (let stable = 0, waited = 0; stable < 1500 && waited < 15_000; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      const n = await audited();
      stable = n === last ? stable + 250 : 0;
      last = n;
    }
    return last;
  };
  const put = (extra) => (i) => [
    ctx.url + `/api/v1/agents/${agents[i % agents.length].id}`,
    { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...extra }, body: JSON.stringify({ description: `edit ${i}` }) },
  ];
  // Alternated (on, off, on, off) so drift in a shared, noisy machine does not favour either side.
  const REQUESTS = 200;
  const runs = { on: [], off: [] };
  const rows = { on: 0, off: 0 };
  for (const round of [1, 2]) {
    for (const mode of ['on', 'off']) {
      const before = await settled();
      const label = mode === 'on' ? `PUT /agents/{id} with audit + request log (${round})` : `PUT /agents/{id} without (X-Bench-Recording: off) (${round})`;
      runs[mode].push(await ctx.http(label, put(mode === 'on' ? {} : { 'X-Bench-Recording': 'off' }), { requests: REQUESTS, expectStatus: 200 }));
      rows[mode] += (await settled()) - before;
    }
  }
  const avg = (xs, k) => xs.reduce((a, r) => a + r[k], 0) / xs.length;
  const [onP50, offP50, onRps, offRps] = [avg(runs.on, 'p50'), avg(runs.off, 'p50'), avg(runs.on, 'rps'), avg(runs.off, 'rps')];
  const sent = 2 * (REQUESTS + 3 * REQUESTS); // per mode: 2 × (warm-up + 3 rounds)
  ctx.print(
    `audit cost on a write (mean of the two pairs): p50 ${(onP50 - offP50).toFixed(2)} ms (${((onP50 / offP50 - 1) * 100).toFixed(1)}%), ` +
      `throughput ${((onRps / offRps - 1) * 100).toFixed(1)}%; audit rows: ${rows.on} for ${sent} recorded requests, ${rows.off} for ${sent} opted-out ones`,
  );

  // The room: 50 sockets of one agent.
  const agent = agents[0];
  const wsUrl = ctx.url.replace(/^http/, 'ws') + `/api/v1/collaboration/agent/${agent.id}/ws?token=${encodeURIComponent(token)}`;
  const CLIENTS = 50;
  const EDITS = 200;
  const pending = new Map(); // client_op_id → {sent, received: count, done}
  const perClient = [];
  const lastArrival = [];
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(wsUrl);
        ws.addEventListener('message', (e) => {
          const msg = JSON.parse(e.data);
          if (msg.type === 'sync') resolve(ws);
          if (msg.type !== 'edit') return;
          const p = pending.get(msg.client_op_id);
          if (!p) return;
          const ms = performance.now() - p.sent;
          perClient.push(ms);
          if (++p.received === CLIENTS) {
            lastArrival.push(ms);
            p.done();
          }
        });
        ws.addEventListener('error', reject);
      }),
    ),
  );
  const sender = clients[0];
  const started = performance.now();
  for (let i = 0; i < EDITS; i++) {
    const id = `op-${i}`;
    await new Promise((done) => {
      pending.set(id, { sent: performance.now(), received: 0, done });
      sender.send(JSON.stringify({ type: 'edit', client_op_id: id, ops: [{ op: 'set', path: ['description'], value: `edit ${i}` }] }));
    });
  }
  const seconds = (performance.now() - started) / 1000;
  for (const ws of clients) ws.close();
  perClient.sort((a, b) => a - b);
  lastArrival.sort((a, b) => a - b);
  ctx.print(
    `room of ${CLIENTS} WebSocket clients, ${EDITS} sequenced edits: edit → each client p50 ${pct(perClient, 50).toFixed(2)} ms, p99 ${pct(perClient, 99).toFixed(2)} ms; ` +
      `edit → all ${CLIENTS} clients p50 ${pct(lastArrival, 50).toFixed(2)} ms, p99 ${pct(lastArrival, 99).toFixed(2)} ms (median ${median(lastArrival).toFixed(2)}); ${(EDITS / seconds).toFixed(0)} edits/s end to end`,
  );
}
