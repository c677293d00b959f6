import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv, Env } from '../env';
import { isProduction } from './secrets';
import { systemLogStatement, writeDurably, type SystemLogEntry } from './system-log';

/**
 * Records every API request after its response is ready, in `ctx.waitUntil` so the caller never
 * waits for it:
 *   - every state-changing request (POST, PUT, PATCH, DELETE) → one audit_logs row
 *     (user, action, resource type/id, status, IP, user agent, request id, time);
 *   - the request line → system_logs (category `request`): always for writes and for answers
 *     ≥ 400; successful reads are sampled at REQUEST_LOG_SAMPLE_RATE (default 1 = all), each kept
 *     row weighted 1/rate;
 *   - an unhandled error (500) → system_logs (category `error`) with its message and stack.
 * All rows of one request go in one batch, retried on failure (writeDurably).
 */

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ID_SEGMENT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };
const API_PREFIX = '/api/v1/';

export interface AuditTarget {
  action: string;
  resource_type: string | null;
  resource_id: string | null;
}

/**
 * What a request did, from its method and path: `POST /agents` → agents.create,
 * `PUT /agents/{id}` → agents.update (resource agents/{id}), `POST /agents/{id}/deploy` →
 * agents.deploy, `DELETE /permissions/grants/{id}` → permissions.grants.delete.
 */
export function auditTarget(method: string, path: string): AuditTarget {
  const segments = path.slice(API_PREFIX.length).split('/').filter(Boolean);
  const [module = 'root', ...rest] = segments;
  const resourceId = rest.find((s) => ID_SEGMENT.test(s)) ?? null;
  const names = rest.filter((s) => !ID_SEGMENT.test(s));
  const last = rest.at(-1);
  // A POST whose last segment is a name is an operation of its own (deploy, import, login).
  const isOperation = method === 'POST' && last !== undefined && !ID_SEGMENT.test(last);
  const action = [module, ...names, ...(isOperation ? [] : [VERBS[method] ?? method.toLowerCase()])].join('.');
  return { action: action.slice(0, 200), resource_type: module, resource_id: resourceId };
}

function sampleRate(env: Env): number {
  const rate = Number(env.REQUEST_LOG_SAMPLE_RATE ?? '1');
  return Number.isFinite(rate) && rate >= 0 && rate <= 1 ? rate : 1;
}

/**
 * The benchmark compares a write with and without recording in one run: only where the
 * bench-only variable is set (never in production) may a request opt out by header.
 */
function optedOut(c: Context<AppEnv>): boolean {
  return c.env.BENCH_RECORDING_OPT_OUT === '1' && !isProduction(c.env) && c.req.header('X-Bench-Recording') === 'off';
}

function clientIp(c: Context<AppEnv>): string | null {
  return c.req.header('CF-Connecting-IP') ?? c.req.header('X-Forwarded-For')?.split(',')[0]?.trim() ?? c.req.header('X-Real-IP') ?? null;
}

export const recordRequests = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  if (!c.req.path.startsWith(API_PREFIX) || optedOut(c)) return;
  const env = c.env;
  const method = c.req.method;
  const status = c.res.status;
  const durationMs = Date.now() - started;
  const user = c.get('user');
  const requestId = c.get('requestId');
  const isWrite = WRITE_METHODS.has(method);
  const rate = sampleRate(env);
  const keepRequestLine = isWrite || status >= 400 || (rate > 0 && Math.random() < rate);

  // The id of a created resource is in the 201 body: read from a clone, after the response left.
  const created = isWrite && status === 201 && /json/i.test(c.res.headers.get('content-type') ?? '') ? c.res.clone() : null;
  const error = c.get('error');
  const audit = isWrite
    ? {
        ...auditTarget(method, c.req.path),
        user_id: user?.id ?? null,
        method,
        path: c.req.path.slice(0, 500),
        status_code: status,
        ip: clientIp(c),
        user_agent: c.req.header('User-Agent')?.slice(0, 500) ?? null,
        request_id: requestId,
        duration_ms: durationMs,
      }
    : null;

  const task = (async () => {
    const statements: D1PreparedStatement[] = [];
    const described: unknown[] = [];
    if (audit) {
      if (created && !audit.resource_id) {
        const body = (await created.json().catch(() => null)) as { id?: unknown } | null;
        if (typeof body?.id === 'string') audit.resource_id = body.id.slice(0, 200);
      }
      statements.push(
        env.DB.prepare(
          `INSERT INTO audit_logs (id, user_id, action, method, path, resource_type, resource_id, status_code, ip, user_agent, request_id, duration_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).bind(crypto.randomUUID(), audit.user_id, audit.action, method, audit.path, audit.resource_type, audit.resource_id, status, audit.ip, audit.user_agent, requestId, durationMs),
      );
      described.push({ audit });
    }
    if (keepRequestLine) {
      const line: SystemLogEntry = {
        category: 'request',
        level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
        source: 'http',
        message: `${method} ${c.req.path} ${status}`,
        request_id: requestId,
        user_id: user?.id ?? null,
        method,
        path: c.req.path,
        status_code: status,
        duration_ms: durationMs,
        weight: isWrite || status >= 400 ? 1 : 1 / rate,
      };
      statements.push(systemLogStatement(env, line));
      described.push(line);
    }
    if (error) {
      const entry: SystemLogEntry = {
        category: 'error',
        level: 'error',
        source: 'http',
        message: error.message,
        request_id: requestId,
        user_id: user?.id ?? null,
        method,
        path: c.req.path,
        status_code: status,
        data: { stack: error.stack },
      };
      statements.push(systemLogStatement(env, entry));
      described.push(entry);
    }
    await writeDurably(env, statements, () => described);
  })();

  try {
    c.executionCtx.waitUntil(task);
  } catch {
    // No execution context (app.request() in tests): finish before answering.
    await task;
  }
});
