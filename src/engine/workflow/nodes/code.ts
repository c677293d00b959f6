import { z } from 'zod';
import { guardedFetch } from '../../../lib/outbound';
import { runSandboxed } from '../../sandbox';
import type { NodeType } from '../node';
import { out } from './helpers';

const CodeConfig = z.object({
  /** JavaScript; the result is `main(args)` if it defines main, else its last expression. */
  code: z.string().min(1).max(100_000),
  /** Values (or references) passed as `args`. */
  inputs: z.record(z.string(), z.unknown()).default({}),
  timeout_ms: z.int().min(10).max(30_000).default(5000),
  /** Let the code call fetch() (through the SSRF guard). */
  allow_network: z.boolean().default(false),
});
export const code: NodeType<z.infer<typeof CodeConfig>> = {
  type: 'code',
  description: "User JavaScript in the QuickJS sandbox → {result, logs} (an object result's fields are outputs too).",
  config: CodeConfig,
  ports: out,
  outputs: () => null,
  rawKeys: ['code'],
  async run(ctx, c, r) {
    const run = await runSandboxed({
      code: c.code,
      args: (r.inputs as Record<string, unknown>) ?? {},
      timeoutMs: c.timeout_ms,
      fetch: c.allow_network
        ? async (url, init) => {
            const res = await guardedFetch(ctx.env, url, { method: init.method, headers: init.headers, body: init.body, signal: ctx.signal });
            return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
          }
        : undefined,
    });
    for (const line of run.logs.slice(0, 50)) ctx.log('debug', `console: ${line}`);
    const fields = run.result && typeof run.result === 'object' && !Array.isArray(run.result) ? (run.result as Record<string, unknown>) : {};
    return { output: { ...fields, result: run.result, logs: run.logs } };
  },
};
