import { z } from 'zod';
import { guardedFetch } from '../../../lib/outbound';
import { NodeError } from '../types';
import { stringify } from '../variables';
import type { NodeType } from '../node';
import { out } from './helpers';

const HttpConfig = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
  url: z.string().min(1).max(4096),
  headers: z.record(z.string(), z.string()).default({}),
  query: z.record(z.string(), z.unknown()).default({}),
  /** A string is sent as is; anything else as JSON. */
  body: z.unknown().optional(),
  timeout_ms: z.int().min(1).max(120_000).default(15_000),
  /** Treat 4xx/5xx answers as a result instead of a node error. */
  allow_error_status: z.boolean().default(false),
});
export const httpRequest: NodeType<z.infer<typeof HttpConfig>> = {
  type: 'http_request',
  description: 'An HTTP request through the SSRF guard → {status, headers, body, json}.',
  config: HttpConfig,
  ports: out,
  outputs: () => ['status', 'headers', 'body', 'json'],
  async run(ctx, _c, r) {
    const c = r as z.infer<typeof HttpConfig>;
    let url: URL;
    try {
      url = new URL(stringify(c.url));
    } catch {
      throw new NodeError('INVALID_URL', `Not an absolute URL: ${stringify(c.url).slice(0, 200)}`, false);
    }
    for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, stringify(v));
    const headers = new Headers(Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k, stringify(v)])));
    let body: string | undefined;
    if (c.body !== undefined && c.body !== null && c.method !== 'GET' && c.method !== 'HEAD') {
      body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
      if (typeof c.body !== 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const started = Date.now();
    const call = (status: 'succeeded' | 'failed', error?: string) =>
      ctx.recordCall({ kind: 'http', name: `${c.method} ${url.host}${url.pathname}`, status, started_at: new Date(started).toISOString(), duration_ms: Date.now() - started, error });
    let res: Response;
    let text: string;
    try {
      res = await guardedFetch(ctx.env, url, { method: c.method, headers, body, signal: ctx.signal }, { timeoutMs: c.timeout_ms, maxBytes: 2 * 1024 * 1024 });
      text = await res.text();
    } catch (e) {
      call('failed', String((e as Error)?.message ?? e));
      throw e;
    }
    call(res.status < 400 ? 'succeeded' : 'failed', res.status < 400 ? undefined : `HTTP ${res.status}`);
    let json: unknown = null;
    if (/json/i.test(res.headers.get('content-type') ?? '')) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (res.status >= 400 && !c.allow_error_status) {
      throw new NodeError('HTTP_ERROR', `HTTP ${res.status} from ${url.host}: ${text.slice(0, 200)}`, res.status >= 500 || res.status === 429);
    }
    return { output: { status: res.status, headers: Object.fromEntries(res.headers), body: text, json } };
  },
};
