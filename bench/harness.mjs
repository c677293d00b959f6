// The benchmark harness: builds the worker as it is deployed, serves it with Miniflare directly
// (not through `wrangler dev`'s proxy, which costs ~5x in throughput here), and measures HTTP
// scenarios against a bare "hello" worker run in the same process — the floor. Figures are
// medians over several rounds; this machine is shared and noisy, so ratios matter more than
// absolute numbers.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from 'wrangler';
import { buildRuntime } from '../scripts/build-runtime.mjs';

export const BUILD_DIR = 'dist/bench';
export const RUNTIME_BUILD_DIR = 'dist/bench-runtime';

/** Builds the API worker and the runtime worker (QuickJS sandbox, pdf.js) it calls by RPC. */
export function buildWorker() {
  execFileSync('wrangler', ['deploy', '--dry-run', '--outdir', BUILD_DIR], { stdio: ['ignore', 'ignore', 'inherit'] });
  buildRuntime(RUNTIME_BUILD_DIR, { force: true });
  return join(BUILD_DIR, 'index.js');
}

/** The runtime worker as built by buildWorker, as Miniflare worker options. */
function runtimeWorker() {
  const { workerOptions } = unstable_getMiniflareWorkerOptions('workers/runtime/wrangler.toml');
  const modules = builtModules(join(RUNTIME_BUILD_DIR, 'index.js'));
  return {
    name: 'tiangong-runtime',
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    modules,
    modulesRoot: RUNTIME_BUILD_DIR,
  };
}

const HELLO = 'export default { fetch() { return new Response("hello"); } };';

/**
 * Starts the built platform worker with the bindings of wrangler.toml, migrations applied, and
 * the runtime worker behind its RUNTIME service binding — unless `runtime: false` (the API
 * worker starts and answers without it; only code runs and PDFs need it).
 * `rttMs` (a number, 0 included) serves the bundle behind bench/rtt-entry.mjs: every D1 and
 * Durable Object call of the API worker waits that round-trip time (per request: the
 * `X-Bench-Rtt-Ms` header), and each response counts them in `X-Bench-Round-Trips`
 * (docs/operations/latency.md). BENCH_RTT_TRACE=1 in the environment prints each request's calls.
 */
export async function startPlatform(bundlePath, { migrate = true, bindings = {}, persistPath, runtime = true, rttMs } = {}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions('wrangler.toml');
  const { RUNTIME, ...serviceBindings } = workerOptions.serviceBindings ?? {};
  // wrangler hands out options in Miniflare's v4 shape; Miniflare 5 converts them.
  const platform = {
    ...workerOptions,
    name: 'tiangong',
    serviceBindings: runtime ? { ...serviceBindings, RUNTIME } : serviceBindings,
    // Extra bindings (e.g. OUTBOUND_ALLOWED_HOSTS for a local server). Bench-only
    // BENCH_RECORDING_OPT_OUT lets governance.mjs measure a write with and without audit/request
    // recording in the same run (the X-Bench-Recording header has no effect without it).
    bindings: { ...(workerOptions.bindings ?? {}), BENCH_RECORDING_OPT_OUT: '1', ...rttBindings(rttMs), ...bindings },
    // The script (and any extra modules) as the build wrote them (behind the round-trip wrapper with rttMs).
    modules: rttMs === undefined ? builtModules(bundlePath) : [{ type: 'ESModule', path: writeRttEntry(bundlePath) }, ...builtModules(bundlePath)],
    modulesRoot: dirname(bundlePath),
    assets: undefined,
    cronTriggers: undefined,
    modulesRules: undefined,
  };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      workers: runtime ? [platform, runtimeWorker()] : [platform],
      logRequests: false,
      // On-disk storage (D1, Durable Objects: a new runtime can take over a running execution).
      ...(persistPath ? { resourcePersistencePath: persistPath } : {}),
      // The worker's per-request JSON log lines would dominate the output and the cost; only the
      // round-trip trace is printed, when asked for.
      handleStructuredLogs: tracingRoundTrips() ? ({ message }) => message.startsWith('[bench-rtt]') && console.log(message) : () => {},
    }),
  );
  const url = await mf.ready;
  if (migrate) await applyMigrations(mf);
  return { mf, url: url.toString().replace(/\/$/, '') };
}

const tracingRoundTrips = () => process.env.BENCH_RTT_TRACE === '1';

/** The wrapper's bindings: the default round-trip time and whether to trace each request's calls. */
function rttBindings(rttMs) {
  if (rttMs === undefined) return {};
  return { BENCH_RTT_MS: String(rttMs), ...(tracingRoundTrips() ? { BENCH_RTT_TRACE: '1' } : {}) };
}

/**
 * Writes bench/rtt-entry.mjs next to the bundle (<build dir>/latency/entry.js, importing
 * ../index.js), with each Durable Object class of wrangler.toml subclassed so that the objects'
 * own D1 calls can be put at a distance too (`X-Bench-Rtt-Objects: 1`).
 */
function writeRttEntry(bundlePath) {
  const dir = join(dirname(bundlePath), 'latency');
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'entry.js');
  const classes = [...durableObjectClasses()].map((c) => `export class ${c} extends objectClass(bundle.${c}) {}\n`).join('');
  writeFileSync(entry, readFileSync(new URL('./rtt-entry.mjs', import.meta.url), 'utf8') + '\n' + classes);
  return entry;
}

/** The Durable Object class names bound in wrangler.toml. */
export function durableObjectClasses() {
  const { durableObjects = {} } = unstable_getMiniflareWorkerOptions('wrangler.toml').workerOptions;
  return new Set(Object.values(durableObjects).map((d) => (typeof d === 'string' ? d : d.className)));
}

/** `X-Bench-Round-Trips: d1=3;do=1;seq=2` as numbers (null when the header is missing). */
export function parseRoundTrips(header) {
  if (!header) return null;
  return Object.fromEntries(header.split(';').map((pair) => {
    const [k, v] = pair.split('=');
    return [k, Number(v)];
  }));
}

// wrangler names the sandbox's QuickJS module "<hash>-wasm", which no default module rule recognises.
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

/**
 * Time from a new runtime to its first answer, for the API worker (alone: it needs the runtime
 * worker only for code runs and PDFs), for the runtime worker (alone), and for the floor.
 */
export async function measureStartup(bundlePath, rounds = 3) {
  const platform = [];
  const runtime = [];
  const floor = [];
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    const p = await startPlatform(bundlePath, { migrate: false, runtime: false });
    await (await fetch(p.url + '/health')).text();
    platform.push(performance.now() - t);
    await p.mf.dispose();
    t = performance.now();
    const r = new Miniflare(convertV4MiniflareOptions({ ...runtimeWorker(), logRequests: false }));
    await (await fetch((await r.ready).toString())).text();
    runtime.push(performance.now() - t);
    await r.dispose();
    t = performance.now();
    const h = await startHello();
    await (await fetch(h.url + '/')).text();
    floor.push(performance.now() - t);
    await h.mf.dispose();
  }
  return { platform: median(platform), runtime: median(runtime), floor: median(floor) };
}

/**
 * The cost of evaluating the API worker's global scope in workerd: the time from a new runtime to
 * the first answer of GET /health, minus the same for a stub worker with identical bindings (same
 * Durable Object classes, D1, R2, queues, services) whose script does nothing. Binding setup,
 * process start and the request itself cancel out; what remains is compiling and evaluating the
 * bundle's top level. Median of `rounds` differences, each pair run back to back; `cpu` is the
 * same difference in CPU time of the workerd process (Linux only, 10 ms ticks; less sensitive to
 * a loaded machine than wall time, and what Cloudflare's startup limit counts).
 */
export async function measureGlobalScope(bundlePath, rounds = 7, { warmUp = true } = {}) {
  const classes = durableObjectClasses();
  const stubDir = join(dirname(bundlePath), 'stub');
  mkdirSync(stubDir, { recursive: true });
  const stubPath = join(stubDir, 'index.js');
  writeFileSync(
    stubPath,
    `import { DurableObject } from 'cloudflare:workers';\n` +
      [...classes].map((c) => `export class ${c} extends DurableObject {}\n`).join('') +
      `export default { fetch() { return new Response('ok'); }, queue() {}, scheduled() {} };\n`,
  );
  const firstAnswer = async (path) => {
    const before = new Set(childProcesses());
    const t = performance.now();
    const p = await startPlatform(path, { migrate: false, runtime: false });
    await (await fetch(p.url + '/health')).text();
    const ms = performance.now() - t;
    const cpu = childProcesses().filter((pid) => !before.has(pid)).reduce((sum, pid) => sum + cpuMs(pid), 0);
    await p.mf.dispose();
    return { ms, cpu };
  };
  if (warmUp) await firstAnswer(stubPath); // the first workerd start pays for disk caches
  const platform = [];
  const stub = [];
  const differences = [];
  const cpuDifferences = [];
  for (let i = 0; i < rounds; i++) {
    const a = await firstAnswer(bundlePath);
    const b = await firstAnswer(stubPath);
    platform.push(a.ms);
    stub.push(b.ms);
    differences.push(a.ms - b.ms);
    cpuDifferences.push(a.cpu - b.cpu);
  }
  return { globalScope: median(differences), cpu: median(cpuDifferences), platform: median(platform), stub: median(stub), rounds };
}

/**
 * CPU time (user + system, ms) that this process's children — Miniflare's workerd — have used so
 * far: read before and after a piece of work, the difference is what the work cost the runtime,
 * a figure a loaded machine disturbs far less than wall time (Linux only; 0 elsewhere).
 */
export const workerdCpuMs = () => childProcesses().reduce((sum, pid) => sum + cpuMs(pid), 0);

/** This process's children (Miniflare's workerd), from /proc; none elsewhere. */
function childProcesses() {
  try {
    return readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** User + system CPU time of a process so far, in ms (/proc/<pid>/stat, 100 ticks a second). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
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
