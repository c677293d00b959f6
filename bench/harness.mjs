// The benchmark harness: builds the worker as it is deployed, serves it with Miniflare directly
// (not through `wrangler dev`'s proxy, which costs ~5x in throughput here), and measures HTTP
// scenarios against a bare "hello" worker run in the same process — the floor. Figures are
// medians over several rounds; this machine is shared and noisy, so ratios matter more than
// absolute numbers.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from 'wrangler';

export const BUILD_DIR = 'dist/bench';

export function buildWorker() {
  execFileSync('wrangler', ['deploy', '--dry-run', '--outdir', BUILD_DIR], { stdio: ['ignore', 'ignore', 'inherit'] });
  return join(BUILD_DIR, 'index.js');
}

const HELLO = 'export default { fetch() { return new Response("hello"); } };';

/** Starts the built platform worker with the bindings of wrangler.toml, migrations applied. */
export async function startPlatform(bundlePath, { migrate = true, bindings = {}, persistPath } = {}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions('wrangler.toml');
  // wrangler hands out options in Miniflare's v4 shape; Miniflare 5 converts them.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...workerOptions,
      // Bench-only: lets governance.mjs measure a write with and without audit/request recording
      // in the same run (the X-Bench-Recording header has no effect without this binding).
      bindings: { ...workerOptions.bindings, BENCH_RECORDING_OPT_OUT: '1' },
      name: 'tiangong',
      // The script and its extra modules as the build wrote them (wrangler names the sandbox's
      // QuickJS module "<hash>-wasm", which no default module rule recognises).
      modules: builtModules(bundlePath),
      modulesRoot: dirname(bundlePath),
      assets: undefined,
      cronTriggers: undefined,
      modulesRules: undefined,
      logRequests: false,
      // Extra bindings (e.g. OUTBOUND_ALLOWED_HOSTS for a local server) and on-disk storage
      // (D1, Durable Objects: a new runtime can take over a running execution).
      bindings: { ...(workerOptions.bindings ?? {}), ...bindings },
      ...(persistPath ? { resourcePersistencePath: persistPath } : {}),
      // The worker's per-request JSON log lines would dominate the output and the cost.
      handleStructuredLogs: () => {},
    }),
  );
  const url = await mf.ready;
  if (migrate) await applyMigrations(mf);
  return { mf, url: url.toString().replace(/\/$/, '') };
}

function builtModules(bundlePath) {
  const dir = dirname(bundlePath);
  const extra = readdirSync(dir).filter((f) => f.endsWith('-wasm') || f.endsWith('.wasm'));
  return [
    { type: 'ESModule', path: bundlePath },
    ...extra.map((f) => ({ type: 'CompiledWasm', path: join(dir, f) })),
  ];
}

async function applyMigrations(mf) {
  const db = await mf.getD1Database('DB');
  for (const file of readdirSync('migrations').filter((f) => f.endsWith('.sql')).sort()) {
    for (const statement of unstable_splitSqlQuery(readFileSync(join('migrations', file), 'utf8'))) {
      const sql = statement.replace(/--> statement-breakpoint/g, '').trim();
      if (sql) await db.prepare(sql).run();
    }
  }
}

export async function startHello() {
  const mf = new Miniflare(convertV4MiniflareOptions({ name: 'hello', modules: true, script: HELLO, compatibilityDate: '2026-11-01', logRequests: false }));
  const url = await mf.ready;
  return { mf, url: url.toString().replace(/\/$/, '') };
}

/** Time from a new runtime to its first answer, for the platform and for the floor. */
export async function measureStartup(bundlePath, rounds = 3) {
  const platform = [];
  const floor = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    const p = await startPlatform(bundlePath, { migrate: false });
    await (await fetch(p.url + '/health')).text();
    platform.push(performance.now() - t);
    await p.mf.dispose();
    t = performance.now();
    const h = await startHello();
    await (await fetch(h.url + '/')).text();
    floor.push(performance.now() - t);
    await h.mf.dispose();
  }
  return { platform: median(platform), floor: median(floor) };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Fires `requests` requests with `concurrency` in flight; `makeRequest(i)` returns
 * [url, init]. Returns requests/second and latency percentiles in ms.
 */
export async function load(makeRequest, { requests = 1000, concurrency = 8, expectStatus } = {}) {
  const latencies = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  async function worker() {
    while (next < requests) {
      const i = next++;
      const [url, init] = makeRequest(i);
      const t = performance.now();
      const res = await fetch(url, init);
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
      if (expectStatus && res.status !== expectStatus) failures++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  if (failures) throw new Error(`${failures} of ${requests} requests did not answer ${expectStatus}`);
  return { rps: requests / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Runs `load` for several rounds and keeps the median of each figure. */
export async function measure(makeRequest, options = {}) {
  const rounds = options.rounds ?? 3;
  await load(makeRequest, { ...options, requests: Math.min(200, options.requests ?? 200) }); // warm-up
  const results = [];
  for (let i = 0; i < rounds; i++) results.push(await load(makeRequest, options));
  return {
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
  };
}

export function formatRow(name, r, floor) {
  const ratio = floor ? `  ${(r.rps / floor.rps).toFixed(2)}x floor rps, ${(r.p50 / floor.p50).toFixed(2)}x floor p50` : '';
  return `${name.padEnd(46)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms${ratio}`;
}
