import variant from '@jitl/quickjs-wasmfile-release-sync';
import wasmModule from '@jitl/quickjs-wasmfile-release-sync/wasm';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSDeferredPromise,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import { SANDBOX_DEFAULTS, type SandboxResult, type SandboxRun } from '../../../src/engine/sandbox/types';

/**
 * QuickJS compiled to WebAssembly, run in the runtime worker (never in the API worker's isolate)
 * but with its own heap, its own globals
 * (no `process`, no `env`, no bindings, no `fetch` unless granted) and no way back into ours:
 * the only bridges are the functions defined below. The interrupt handler stops endless loops at
 * the deadline and the runtime's memory limit stops runaway allocation — both verified in workerd,
 * where a Worker Loader isolate would hang the local runtime on `while (true) {}`.
 *
 * The .wasm is imported statically (Workers cannot compile WebAssembly from bytes at run time);
 * each run gets a fresh runtime and context, so nothing a run leaves behind is seen by the next.
 */

let modulePromise: Promise<QuickJSWASMModule> | undefined;

function loadModule(): Promise<QuickJSWASMModule> {
  modulePromise ??= newQuickJSWASMModuleFromVariant(
    newVariant(variant as unknown as QuickJSSyncVariant, { wasmModule: wasmModule as unknown as WebAssembly.Module }),
  ).catch((e) => {
    modulePromise = undefined;
    throw e;
  });
  return modulePromise;
}

// The prelude turns the host bridges into ordinary-looking APIs, then removes the raw bridges from
// the global object so user code can only reach them through these closures.
const PRELUDE = `
(() => {
  const g = globalThis;
  const log = g.__host_log;
  const fmt = (v) => {
    if (typeof v === 'string') return v;
    try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch { return String(v); }
  };
  const c = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    c[level] = (...xs) => { log(level, xs.map(fmt).join(' ')); };
  }
  g.console = c;
  g.args = JSON.parse(g.__host_args);
  const hostFetch = g.__host_fetch;
  if (typeof hostFetch === 'function') {
    g.fetch = async (url, init = {}) => {
      const headers = {};
      if (init.headers) for (const [k, v] of Object.entries(init.headers)) headers[k] = String(v);
      const body = init.body === undefined || init.body === null ? undefined
        : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      const r = JSON.parse(await hostFetch(String(url), JSON.stringify({ method: init.method, headers, body })));
      return {
        status: r.status, ok: r.status >= 200 && r.status < 300, headers: r.headers,
        text: async () => r.body, json: async () => JSON.parse(r.body),
      };
    };
  }
  delete g.__host_log; delete g.__host_args; delete g.__host_fetch;
})();
`;

// User code is a script: if it defines `main`, the result is `await main(args)`; otherwise it is
// the script's completion value. The result leaves the sandbox as JSON text made inside it.
const FINISH = `
(async () => {
  const value = typeof main === 'function' ? await main(args) : await globalThis.__completion;
  const json = JSON.stringify(value === undefined ? null : value);
  return json === undefined ? 'null' : json;
})()
`;

/** A refusal of the code, as the API answers it: status, error code, message. */
export class SandboxError extends Error {
  constructor(
    readonly status: 422 | 504,
    readonly code: 'CODE_ERROR' | 'SANDBOX_TIMEOUT' | 'SANDBOX_MEMORY_LIMIT' | 'OUTPUT_TOO_LARGE',
    message: string,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

class SandboxFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'memory' | 'code',
    message: string,
  ) {
    super(message);
  }
}

export async function runInQuickJS(run: SandboxRun): Promise<SandboxResult> {
  const timeoutMs = run.timeoutMs ?? SANDBOX_DEFAULTS.timeoutMs;
  const memoryBytes = run.memoryBytes ?? SANDBOX_DEFAULTS.memoryBytes;
  const maxOutputBytes = run.maxOutputBytes ?? SANDBOX_DEFAULTS.maxOutputBytes;
  const maxLogBytes = run.maxLogBytes ?? SANDBOX_DEFAULTS.maxLogBytes;
  const maxFetches = run.maxFetches ?? SANDBOX_DEFAULTS.maxFetches;

  const started = Date.now();
  const qjs = await loadModule();
  const deadline = Date.now() + timeoutMs;
  const runtime = qjs.newRuntime();
  runtime.setMemoryLimit(memoryBytes);
  // QuickJS must hit its own stack limit before the host's wasm stack overflows.
  runtime.setMaxStackSize(320 * 1024);
  // Deployed Workers do not advance Date.now() while code runs (a Spectre mitigation), so the
  // deadline alone cannot stop a tight loop there; the call budget does. QuickJS asks every ~10k
  // bytecode operations; 20 asks per ms is well above what it reaches here (a tight loop: ~5),
  // so locally the deadline decides and in production a loop stops within a few times the limit.
  let interruptChecks = 0;
  const maxChecks = timeoutMs * 20;
  runtime.setInterruptHandler(() => ++interruptChecks > maxChecks || Date.now() > deadline);
  const ctx = runtime.newContext();

  const logs: string[] = [];
  let logBytes = 0;
  let logsTruncated = false;
  const deferreds: QuickJSDeferredPromise[] = [];
  const pending = new Set<Promise<unknown>>();
  let fetches = 0;

  try {
    const hostLog = ctx.newFunction('__host_log', (levelH, textH) => {
      const line = `${ctx.getString(levelH)}: ${ctx.getString(textH)}`;
      if (logsTruncated) return;
      if (logBytes + line.length > maxLogBytes) {
        logsTruncated = true;
        return;
      }
      logBytes += line.length;
      logs.push(line);
    });
    ctx.setProp(ctx.global, '__host_log', hostLog);
    hostLog.dispose();
    const argsH = ctx.newString(JSON.stringify(run.args ?? {}));
    ctx.setProp(ctx.global, '__host_args', argsH);
    argsH.dispose();

    if (run.fetch) {
      const doFetch = run.fetch;
      const hostFetch = ctx.newFunction('__host_fetch', (urlH, initH) => {
        const deferred = ctx.newPromise();
        deferreds.push(deferred);
        if (++fetches > maxFetches) {
          rejectWith(ctx, deferred, `At most ${maxFetches} fetches per run`);
          return deferred.handle;
        }
        const url = ctx.getString(urlH);
        const init = JSON.parse(ctx.getString(initH)) as Parameters<typeof doFetch>[1];
        const op = doFetch(url, init).then(
          (res) => {
            if (!ctx.alive) return;
            const s = ctx.newString(JSON.stringify(res));
            deferred.resolve(s);
            s.dispose();
          },
          (e: unknown) => {
            if (!ctx.alive) return;
            // The API worker's fetch puts the guard's error code in the message ("SSRF_BLOCKED: ...").
            rejectWith(ctx, deferred, e instanceof Error ? e.message : String(e));
          },
        );
        pending.add(op);
        void op.finally(() => pending.delete(op));
        return deferred.handle;
      });
      ctx.setProp(ctx.global, '__host_fetch', hostFetch);
      hostFetch.dispose();
    }

    evalOrFail(ctx, PRELUDE, 'prelude.js', deadline, timeoutMs);
    // The user's script runs as a global script so its `function main` lands on the global object.
    const completion = evalRaw(ctx, run.code, 'tool.js', deadline, timeoutMs);
    ctx.setProp(ctx.global, '__completion', completion);
    completion.dispose();

    const promise = evalRaw(ctx, FINISH, 'finish.js', deadline, timeoutMs);
    try {
      const json = await settle(ctx, runtime, promise, pending, deadline, timeoutMs);
      if (json.length > maxOutputBytes) {
        throw new SandboxError(422, 'OUTPUT_TOO_LARGE', `The result is ${json.length} bytes of JSON; the limit is ${maxOutputBytes} bytes`);
      }
      return { result: JSON.parse(json), logs, logs_truncated: logsTruncated, duration_ms: Date.now() - started };
    } finally {
      promise.dispose();
    }
  } catch (e) {
    // The interpreter itself failed (a host stack overflow, a WebAssembly trap): not the user's
    // code's fault as such, but it stays a refusal of that code, never a 500.
    if (!(e instanceof SandboxFailure) && !(e instanceof SandboxError)) {
      modulePromise = undefined;
      throw new SandboxError(422, 'SANDBOX_MEMORY_LIMIT', `The code exhausted the interpreter: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (e instanceof SandboxFailure) {
      // A run stopped mid-allocation or mid-instruction may leave the interpreter's memory in an
      // odd state; start the next run from a fresh instance rather than trust it.
      if (e.kind !== 'code') modulePromise = undefined;
      if (e.kind === 'timeout') throw new SandboxError(504, 'SANDBOX_TIMEOUT', e.message);
      if (e.kind === 'memory') throw new SandboxError(422, 'SANDBOX_MEMORY_LIMIT', e.message);
      throw new SandboxError(422, 'CODE_ERROR', e.message);
    }
    throw e;
  } finally {
    for (const d of deferreds) if (d.alive) d.dispose();
    try {
      ctx.dispose();
      runtime.dispose();
    } catch {
      // Disposal after an interrupted run can trip QuickJS' leak assertions; the instance is
      // dropped above in that case, so there is nothing further to free.
      modulePromise = undefined;
    }
  }
}

function rejectWith(ctx: QuickJSContext, deferred: QuickJSDeferredPromise, message: string) {
  const err = ctx.newError({ name: 'FetchError', message });
  deferred.reject(err);
  err.dispose();
}

function evalRaw(ctx: QuickJSContext, code: string, filename: string, deadline: number, timeoutMs: number): QuickJSHandle {
  const result = ctx.evalCode(code, filename, { type: 'global' });
  if (result.error) {
    const failure = describeError(ctx, result.error, deadline, timeoutMs);
    result.error.dispose();
    throw failure;
  }
  return result.value;
}

function evalOrFail(ctx: QuickJSContext, code: string, filename: string, deadline: number, timeoutMs: number) {
  evalRaw(ctx, code, filename, deadline, timeoutMs).dispose();
}

/** Drives the result promise: runs QuickJS jobs, waits for host fetches, enforces the deadline. */
async function settle(
  ctx: QuickJSContext,
  runtime: QuickJSRuntime,
  promise: QuickJSHandle,
  pending: Set<Promise<unknown>>,
  deadline: number,
  timeoutMs: number,
): Promise<string> {
  for (;;) {
    const jobs = runtime.executePendingJobs();
    if (jobs.error) {
      const failure = describeError(ctx, jobs.error, deadline, timeoutMs);
      jobs.error.dispose();
      throw failure;
    }
    const state = ctx.getPromiseState(promise);
    if (state.type === 'fulfilled') {
      const json = ctx.getString(state.value);
      state.value.dispose();
      return json;
    }
    if (state.type === 'rejected') {
      const failure = describeError(ctx, state.error, deadline, timeoutMs);
      state.error.dispose();
      throw failure;
    }
    if (Date.now() > deadline) throw timeoutFailure(timeoutMs);
    if (pending.size === 0 && !runtime.hasPendingJob()) {
      throw new SandboxFailure('code', 'The code awaits a promise that can never settle');
    }
    if (pending.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()) + 1)));
      await Promise.race([Promise.race(pending), expired]);
      clearTimeout(timer);
    }
  }
}

const timeoutFailure = (timeoutMs: number) => new SandboxFailure('timeout', `The code did not finish within ${timeoutMs} ms`);

function describeError(ctx: QuickJSContext, handle: QuickJSHandle, deadline: number, timeoutMs: number): SandboxFailure {
  let dumped: unknown;
  try {
    dumped = ctx.dump(handle);
  } catch {
    dumped = 'unknown error';
  }
  const err = (typeof dumped === 'object' && dumped ? dumped : { message: String(dumped) }) as { name?: string; message?: string };
  const message = String(err.message ?? dumped);
  // Only our interrupt handler interrupts, and only at the deadline or the call budget.
  if (err.name === 'InternalError' && /interrupted/i.test(message)) return timeoutFailure(timeoutMs);
  if (/out of memory/i.test(message) || (err.name === 'RangeError' && /stack|memory/i.test(message))) {
    return new SandboxFailure('memory', `The code exceeded its memory limit (${message})`);
  }
  return new SandboxFailure('code', err.name ? `${err.name}: ${message}` : message);
}
