import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { runSandboxed, type SandboxRun } from '../../src/engine/sandbox';
import { ApiError } from '../../src/lib/errors';
import { guardedFetch } from '../../src/lib/outbound';

async function failure(run: SandboxRun): Promise<ApiError> {
  try {
    await runSandboxed(run);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected the run to fail');
}

// The sandbox's own fetch bridge as the tools module wires it: through the SSRF guard.
const guarded: SandboxRun['fetch'] = async (url, init) => {
  const res = await guardedFetch(env, url, init, { timeoutMs: 2000, maxBytes: 1024 * 1024 });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
};

describe('sandbox: results', () => {
  it('returns the completion value of a script, with args', async () => {
    const out = await runSandboxed({ code: 'args.a + args.b', args: { a: 2, b: 40 } });
    expect(out.result).toBe(42);
    expect(out.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('calls main(args), async or not, and captures console output', async () => {
    const out = await runSandboxed({
      code: `async function main({ name }) { console.log('hello', name, { n: 1 }); await null; return { greeting: 'hi ' + name }; }`,
      args: { name: 'Ada' },
    });
    expect(out.result).toEqual({ greeting: 'hi Ada' });
    expect(out.logs).toEqual(['log: hello Ada {"n":1}']);
  });

  it('maps undefined to null and keeps JSON types', async () => {
    expect((await runSandboxed({ code: 'undefined' })).result).toBeNull();
    expect((await runSandboxed({ code: '[1, "a", true, null, { x: [2] }]' })).result).toEqual([1, 'a', true, null, { x: [2] }]);
  });

  it('reports user errors as 422 CODE_ERROR with the message', async () => {
    const e = await failure({ code: 'function main() { throw new TypeError("bad input") }' });
    expect(e.status).toBe(422);
    expect(e.code).toBe('CODE_ERROR');
    expect(e.message).toContain('TypeError: bad input');
    expect((await failure({ code: 'this is not javascript' })).code).toBe('CODE_ERROR');
    expect((await failure({ code: 'Promise.reject(new Error("nope"))' })).message).toContain('nope');
  });

  it('a run leaves nothing behind for the next one', async () => {
    await runSandboxed({ code: 'globalThis.leak = 1; Object.prototype.polluted = true' });
    expect((await runSandboxed({ code: 'typeof leak + ":" + ({}).polluted' })).result).toBe('undefined:undefined');
  });
});

describe('sandbox: escapes keep failing', () => {
  it("constructor.constructor('return this')() is the sandbox's own empty global", async () => {
    const out = await runSandboxed({
      code: `const g = constructor.constructor('return this')();
        [typeof g.process, typeof g.env, typeof g.DB, typeof g.fetch, typeof g.require, typeof g.caches, typeof g.WebAssembly]`,
    });
    expect(out.result).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
  });

  it('process, env, bindings and the host bridges are unreachable', async () => {
    const out = await runSandboxed({
      code: `[typeof process, typeof globalThis.env, typeof DB, typeof __host_log, typeof __host_fetch, typeof __host_args,
        Object.getOwnPropertyNames(globalThis).filter((k) => /env|secret|key|db/i.test(k))]`,
    });
    expect(out.result).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', []]);
    expect((await failure({ code: 'process.env.ENCRYPTION_KEY' })).message).toMatch(/process/);
  });

  it('fetch does not exist unless granted, and when granted it goes through the SSRF guard', async () => {
    expect((await failure({ code: 'fetch("https://example.com/")' })).message).toMatch(/fetch/);
    for (const target of ['http://169.254.169.254/latest/meta-data/', 'http://127.0.0.1:1/', 'http://localhost/', 'http://[::1]/']) {
      const e = await failure({ code: `async function main() { return await fetch(${JSON.stringify(target)}) }`, fetch: guarded });
      expect(e.code).toBe('CODE_ERROR');
      expect(e.message).toContain('SSRF_BLOCKED');
    }
  });

  it('a granted fetch reaches an allowed host and is counted', async () => {
    const out = await runSandboxed({
      code: `async function main({ base }) {
        const r = await fetch(base + '/basic/echo?x=1', { method: 'POST', body: { a: 1 } });
        const seen = await r.json();
        return [r.status, r.ok, seen.method, seen.body, seen.query.x];
      }`,
      args: { base: env.FAKE_BASE_URL },
      fetch: guarded,
    });
    expect(out.result).toEqual([200, true, 'POST', '{"a":1}', '1']);
    const limited = await failure({
      code: `async function main({ base }) { for (let i = 0; i < 3; i++) await fetch(base + '/basic/echo'); }`,
      args: { base: env.FAKE_BASE_URL },
      fetch: guarded,
      maxFetches: 2,
    });
    expect(limited.message).toContain('At most 2 fetches');
  });

  it('stops an infinite loop with 504 at the deadline', async () => {
    const started = Date.now();
    const e = await failure({ code: 'while (true) {}', timeoutMs: 300 });
    expect(e.status).toBe(504);
    expect(e.code).toBe('SANDBOX_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
    // An async function that loops after an await is stopped too.
    expect((await failure({ code: 'async function main() { await null; for (;;) {} }', timeoutMs: 200 })).status).toBe(504);
    // And the interpreter still works afterwards.
    expect((await runSandboxed({ code: '1 + 1' })).result).toBe(2);
  });

  it('stops a huge allocation at the memory limit', async () => {
    const e = await failure({ code: 'const a = []; for (;;) a.push({ i: a.length })', memoryBytes: 16 * 1024 * 1024 });
    expect(e.code).toBe('SANDBOX_MEMORY_LIMIT');
    expect((await failure({ code: '"x".repeat(2 ** 29).length', memoryBytes: 16 * 1024 * 1024 })).code).toBe('SANDBOX_MEMORY_LIMIT');
    const big = await failure({ code: 'new ArrayBuffer(512 * 1024 * 1024)', memoryBytes: 16 * 1024 * 1024 });
    expect(big.code).toBe('SANDBOX_MEMORY_LIMIT');
    // Unbounded recursion ends as an error of the code; bounded recursion of a sane depth works.
    expect((await failure({ code: 'function f() { return f() + 1 } f()' })).status).toBe(422);
    expect((await runSandboxed({ code: 'function f(n) { return n === 0 ? 0 : 1 + f(n - 1) } f(1000)' })).result).toBe(1000);
    expect((await runSandboxed({ code: '"still" + " fine"' })).result).toBe('still fine');
  });

  it('refuses a huge result and truncates huge console output', async () => {
    const e = await failure({ code: '"x".repeat(300000)', maxOutputBytes: 256 * 1024 });
    expect(e.code).toBe('OUTPUT_TOO_LARGE');
    const out = await runSandboxed({ code: 'for (let i = 0; i < 10000; i++) console.log("line " + i); "done"', maxLogBytes: 1000 });
    expect(out.result).toBe('done');
    expect(out.logs_truncated).toBe(true);
    expect(out.logs.join('').length).toBeLessThanOrEqual(1000);
  });

  it('import() of runtime modules fails', async () => {
    for (const spec of ['cloudflare:workers', 'node:fs', 'node:child_process', './index.js']) {
      const e = await failure({ code: `async function main() { return Object.keys(await import(${JSON.stringify(spec)})) }` });
      expect(e.code).toBe('CODE_ERROR');
    }
    expect((await failure({ code: 'require("fs")' })).message).toMatch(/require/);
  });

  it('eval inside the sandbox stays inside the sandbox', async () => {
    const out = await runSandboxed({ code: `eval('typeof process') + ':' + new Function('return typeof env')()` });
    expect(out.result).toBe('undefined:undefined');
  });
});
