// Bench only (never deployed): the entry module startPlatform(…, { rttMs }) serves instead of the
// built worker. It is copied next to the bundle (dist/bench/latency/entry.js) and puts distance
// between the API worker and its storage: every D1 call (prepare→first/all/run/raw, batch, exec,
// withSession) and every Durable Object call (stub fetch and RPC methods) made by the worker waits
// one round-trip time before it runs. The Durable Objects themselves keep the real env: the
// distance modelled is the worker's, near the user, to D1's primary and to the objects.
//
// Per request it counts D1 calls, Durable Object calls and the sequential round trips on the
// critical path — the longest chain of calls each started after the previous one finished (calls
// in flight together count once) — until the handler returns its Response, and answers them in
// `X-Bench-Round-Trips: d1=3;do=1;seq=2` (a stream's later calls are not in it).
//
// Per request, headers: `X-Bench-Rtt-Ms: <ms>` overrides the binding BENCH_RTT_MS (default 0);
// `X-Bench-Direct: 1` calls the worker with its real env (no wrapping, no counting: the
// production code path, for CPU figures); `X-Bench-Trace: 1` answers the request's calls in order
// — start depth, kind, SQL prefix or method — in the `X-Bench-Trace` response header (URI-encoded
// lines); the binding BENCH_RTT_TRACE=1 does so for every request and also logs them as one
// `[bench-rtt]` message per request (startPlatform prints those).
import { AsyncLocalStorage } from 'node:async_hooks';
import worker, * as bundle from '../index.js';

// The Durable Object classes (and anything else the bundle exports), unchanged — unless the
// harness appends subclasses (objectClass below) for BENCH_RTT_OBJECTS.
export * from '../index.js';

const requests = new AsyncLocalStorage();
const wrappedEnvs = new WeakMap();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sqlPrefix = (sql) => String(sql).replace(/\s+/g, ' ').trim().slice(0, 72);

// The distance of the latest request: with `X-Bench-Rtt-Objects: 1` the Durable Objects' own D1
// calls wait this RTT too (an object placed near the user, far from D1's primary). A module
// global, since an object's calls run outside the request: meaningful with one client at a time.
const latest = { rtt: 0, objects: false };
const objectsRtt = () => (latest.objects ? latest.rtt : 0);

/**
 * Runs `call` one round trip away: waits the RTT first (the request's, else the binding's), and,
 * inside a counted request, counts it and records its depth in the chain of sequential calls.
 */
async function roundTrip(kind, what, call, rttOf) {
  const state = requests.getStore();
  const rtt = state ? state.rtt : rttOf();
  if (!state) {
    if (rtt > 0) await sleep(rtt);
    return call();
  }
  state[kind]++;
  // One more than the deepest call already finished: a call started while others are in flight
  // does not wait for them, so it is no deeper than they are.
  const depth = state.finishedDepth + 1;
  state.seq = Math.max(state.seq, depth);
  if (state.trace) state.trace.push(`${state.returned ? 'after response ' : ''}${depth} ${kind} ${what}`);
  try {
    if (rtt > 0) await sleep(rtt);
    return await call();
  } finally {
    state.finishedDepth = Math.max(state.finishedDepth, depth);
  }
}

class Statement {
  constructor(real, sql, rttOf) {
    this.real = real;
    this.sql = sql;
    this.rttOf = rttOf;
  }
  bind(...params) {
    return new Statement(this.real.bind(...params), this.sql, this.rttOf);
  }
  first(column) {
    return roundTrip('d1', `first ${sqlPrefix(this.sql)}`, () => (column === undefined ? this.real.first() : this.real.first(column)), this.rttOf);
  }
  all() {
    return roundTrip('d1', `all ${sqlPrefix(this.sql)}`, () => this.real.all(), this.rttOf);
  }
  run() {
    return roundTrip('d1', `run ${sqlPrefix(this.sql)}`, () => this.real.run(), this.rttOf);
  }
  raw(options) {
    return roundTrip('d1', `raw ${sqlPrefix(this.sql)}`, () => this.real.raw(options), this.rttOf);
  }
}

const unwrap = (s) => (s instanceof Statement ? s.real : s);
const batchLabel = (statements) => `batch(${statements.length}) ${statements.map((s) => sqlPrefix(s.sql ?? '?').slice(0, 40)).join(' | ')}`;

/** A D1Database (or a D1DatabaseSession) whose calls are round trips (outside a request: rttOf() ms). */
function wrapD1(real, rttOf) {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'prepare') return (sql) => new Statement(target.prepare(sql), sql, rttOf);
      if (prop === 'batch') return (statements) => roundTrip('d1', batchLabel(statements), () => target.batch(statements.map(unwrap)), rttOf);
      if (prop === 'exec') return (sql) => roundTrip('d1', `exec ${sqlPrefix(sql)}`, () => target.exec(sql), rttOf);
      // A session's reads and writes are round trips like any other; getBookmark is local.
      if (prop === 'withSession') return (constraint) => wrapD1(constraint === undefined ? target.withSession() : target.withSession(constraint), rttOf);
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A Durable Object stub whose fetch and RPC methods are round trips. */
function wrapStub(stub, binding, rttOf) {
  return new Proxy(stub, {
    get(target, prop) {
      // Not a thenable (a stub is returned from async functions); id and name are local.
      if (prop === 'then') return undefined;
      if (typeof prop === 'symbol' || prop === 'id' || prop === 'name') return Reflect.get(target, prop);
      return (...args) => roundTrip('do', `${binding}.${prop}`, () => target[prop](...args), rttOf);
    },
  });
}

/** A Durable Object namespace whose stubs are wrapped (ids are made locally, no round trip). */
function wrapNamespace(ns, binding, rttOf) {
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === 'get') return (id, options) => wrapStub(target.get(id, options), binding, rttOf);
      if (prop === 'getByName') return (name, options) => wrapStub(target.getByName(name, options), binding, rttOf);
      if (prop === 'jurisdiction') return (j) => wrapNamespace(target.jurisdiction(j), binding, rttOf);
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const isD1 = (v) => v && typeof v.prepare === 'function' && typeof v.batch === 'function' && typeof v.withSession === 'function';
const isNamespace = (v) => v && typeof v.idFromName === 'function' && typeof v.get === 'function';

/** The env with D1 and Durable Object bindings wrapped: one per real env, so per-isolate caches keyed on it or its bindings keep working. */
function wrapEnv(env) {
  let wrapped = wrappedEnvs.get(env);
  if (wrapped) return wrapped;
  const rttOf = () => Number(env.BENCH_RTT_MS ?? 0) || 0;
  const bindings = {};
  for (const key of Object.keys(env)) {
    const value = env[key];
    if (isD1(value)) bindings[key] = wrapD1(value, rttOf);
    else if (isNamespace(value)) bindings[key] = wrapNamespace(value, key, rttOf);
  }
  wrapped = new Proxy(env, { get: (target, prop) => (prop in bindings ? bindings[prop] : Reflect.get(target, prop)) });
  wrappedEnvs.set(env, wrapped);
  return wrapped;
}

export default {
  async fetch(request, env, ctx) {
    if (request.headers.get('X-Bench-Direct') === '1') return worker.fetch(request, env, ctx);
    const header = request.headers.get('X-Bench-Rtt-Ms');
    const rtt = header !== null ? Number(header) || 0 : Number(env.BENCH_RTT_MS ?? 0) || 0;
    const logging = env.BENCH_RTT_TRACE === '1';
    const tracing = logging || request.headers.get('X-Bench-Trace') === '1';
    latest.rtt = rtt;
    latest.objects = request.headers.get('X-Bench-Rtt-Objects') === '1';
    const state = { rtt, d1: 0, do: 0, seq: 0, finishedDepth: 0, returned: false, trace: tracing ? [] : null };
    const response = await requests.run(state, () => worker.fetch(request, wrapEnv(env), ctx));
    state.returned = true;
    const counts = `d1=${state.d1};do=${state.do};seq=${state.seq}`;
    if (logging) {
      const url = new URL(request.url);
      console.log(`[bench-rtt] ${request.method} ${url.pathname} ${response.status} ${counts}\n  ${state.trace.join('\n  ')}`);
    }
    if (response.status === 101 || response.webSocket) return response;
    const out = new Response(response.body, response);
    out.headers.set('X-Bench-Round-Trips', counts);
    if (tracing) out.headers.set('X-Bench-Trace', encodeURIComponent(state.trace.join('\n')).slice(0, 7000));
    return out;
  },
  queue: (batch, env, ctx) => worker.queue(batch, wrapEnv(env), ctx),
  scheduled: (controller, env, ctx) => worker.scheduled(controller, wrapEnv(env), ctx),
};

/**
 * An object's env with its D1 binding wrapped (round trips of the latest request's RTT when it
 * asked for `X-Bench-Rtt-Objects: 1`, else none). The harness appends, for each Durable Object
 * class, `export class X extends objectClass(bundle.X) {}`.
 */
export function objectClass(Base) {
  return class extends Base {
    constructor(ctx, env) {
      const bindings = {};
      for (const key of Object.keys(env)) if (isD1(env[key])) bindings[key] = wrapD1(env[key], objectsRtt);
      super(ctx, new Proxy(env, { get: (target, prop) => (prop in bindings ? bindings[prop] : Reflect.get(target, prop)) }));
    }
  };
}
