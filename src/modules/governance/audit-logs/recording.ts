import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Env } from '../../../env';
import { requestUserId, type AppEnv } from '../../../lib/context';
import { isProduction } from '../../../lib/secrets';
import { logJobFailure, systemLogStatement, writeDurably } from '../system-logs/log';
import { runBatch } from '../../../db/client';
import { insertAuditLog } from './store';
import { AUDIT_QUEUE_NAME, type AuditRow, type RecordMessage } from '../../../queues';


/**
 * Records every API request after its response is ready, in `ctx.waitUntil` so the caller never
 * waits for it:
 *   - every state-changing request (POST, PUT, PATCH, DELETE) → one audit_logs row
 *     (user, action, resource type/id, status, IP, user agent, request id, time);
 *   - the request line → system_logs (category `request`): always for writes and for answers
 *     ≥ 400; successful reads are sampled at REQUEST_LOG_SAMPLE_RATE (default 1 = all), each kept
 *     row weighted 1/rate;
 *   - an unhandled error (500) → system_logs (category `error`) with its message and stack.
 * The rows of one request (ids and times set here) are one message of the AUDIT_QUEUE
 * (`tiangong-audit`): the request costs a queue send, not a D1 write. The consumer writes each
 * message batch (up to 100) in ONE D1 batch with `INSERT OR IGNORE` on the ids, so a redelivered
 * batch adds nothing. Without the binding, or when the send fails, the rows are written directly
 * (writeDurably: one batch, retried).
 */

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ID_SEGMENT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };
const API_PREFIX = '/api/v1/';



function auditStatement(env: Env, a: AuditRow): D1PreparedStatement {
  return insertAuditLog(env.DB, {
    id: a.id,
    userId: a.user_id,
    action: a.action,
    method: a.method,
    path: a.path,
    resourceType: a.resource_type,
    resourceId: a.resource_id,
    statusCode: a.status_code,
    ip: a.ip,
    userAgent: a.user_agent,
    requestId: a.request_id,
    durationMs: a.duration_ms,
    createdAt: a.created_at,
  });
}

function recordStatements(env: Env, m: RecordMessage): D1PreparedStatement[] {
  return [...(m.audit ? [auditStatement(env, m.audit)] : []), ...m.logs.map((l) => systemLogStatement(env, l))];
}

function isRecordMessage(body: unknown): body is RecordMessage {
  const m = body as RecordMessage | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    Array.isArray(m.logs) &&
    m.logs.every((l) => typeof l?.id === 'string' && typeof l.message === 'string') &&
    (m.audit === undefined || (typeof m.audit?.id === 'string' && typeof m.audit.action === 'string'))
  );
}

/** Queues a request's rows; without a queue (or if the send fails) writes them at once. */
async function sendRecord(env: Env, message: RecordMessage): Promise<void> {
  if (env.AUDIT_QUEUE) {
    try {
      await env.AUDIT_QUEUE.send(message, { contentType: 'json' });
      return;
    } catch (e) {
      console.error(JSON.stringify({ type: 'audit_queue_send_failed', error: String(e) }));
    }
  }
  await writeDurably(env, recordStatements(env, message), () => [message]);
}

/**
 * Consumer of `tiangong-audit`: all rows of the batch in one D1 batch, in request order. The ids
 * come from the request, so a redelivery (after a failed ack, or a retry) inserts nothing twice.
 * A failing write throws: the batch is retried, then dead-lettered. Malformed messages are dropped.
 */
export async function consumeAuditBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid = batch.messages.filter((m) => isRecordMessage(m.body));
  for (const m of batch.messages) if (!isRecordMessage(m.body)) m.ack();
  const ordered = valid
    .map((m) => m.body as RecordMessage)
    .sort((a, b) => (a.audit?.created_at ?? a.logs[0]?.created_at ?? '').localeCompare(b.audit?.created_at ?? b.logs[0]?.created_at ?? ''));
  const statements = ordered.flatMap((m) => recordStatements(env, m));
  await runBatch(env.DB, statements);
  for (const m of valid) m.ack();
}

/**
 * Messages whose write kept failing: one last attempt (retried); what still fails is printed
 * (Workers Logs keeps it) and recorded as given up, if a single line can still be written.
 */
export async function consumeAuditDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const messages = batch.messages.map((m) => m.body).filter(isRecordMessage);
  if (!(await writeDurably(env, messages.flatMap((m) => recordStatements(env, m)), () => messages))) {
    for (const m of batch.messages) {
      await logJobFailure(env, { job: `queue:${AUDIT_QUEUE_NAME}`, gaveUp: true, messageId: m.id, cause: 'the audit and log rows could not be written' });
    }
  }
  batch.ackAll();
}

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
  const userId = requestUserId(c);
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
        user_id: userId,
        method,
        path: c.req.path.slice(0, 500),
        status_code: status,
        ip: clientIp(c),
        user_agent: c.req.header('User-Agent')?.slice(0, 500) ?? null,
        request_id: requestId,
        duration_ms: durationMs,
      } satisfies Omit<AuditRow, 'id' | 'created_at'>
    : null;

  const task = (async () => {
    const message: RecordMessage = { logs: [] };
    const at = new Date(started + durationMs).toISOString(); // when the answer was ready
    if (audit) {
      if (created && !audit.resource_id) {
        const body = (await created.json().catch(() => null)) as { id?: unknown } | null;
        if (typeof body?.id === 'string') audit.resource_id = body.id.slice(0, 200);
      }
      message.audit = { id: crypto.randomUUID(), created_at: at, ...audit };
    }
    const common = { created_at: at, source: 'http', request_id: requestId, user_id: userId, method, path: c.req.path, status_code: status };
    if (keepRequestLine) {
      message.logs.push({
        ...common,
        id: crypto.randomUUID(),
        category: 'request',
        level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
        message: `${method} ${c.req.path} ${status}`,
        duration_ms: durationMs,
        weight: isWrite || status >= 400 ? 1 : 1 / rate,
      });
    }
    if (error) {
      message.logs.push({ ...common, id: crypto.randomUUID(), category: 'error', level: 'error', message: error.message.slice(0, 4000), data: { stack: error.stack?.slice(0, 15_000) } });
    }
    if (message.audit || message.logs.length) await sendRecord(env, message);
  })();

  try {
    c.executionCtx.waitUntil(task);
  } catch {
    // No execution context (app.request() in tests): finish before answering.
    await task;
  }
});
