import type { Env } from '../../../env';
import type { LogLevel, SystemLogEntry } from '../../../queues';
import { runBatch, type AnyStatement } from '../../../db/client';
import { insertSystemLog, lastJobFailureCause } from './store';

/**
 * The unified system log (table system_logs): request lines, unhandled errors, background jobs
 * and application messages. Writers never fail their caller: a log that cannot be written is
 * printed instead (Workers Logs keeps it).
 */

/** The insert of one line; `INSERT OR IGNORE` on the id, so writing the same entry twice keeps one row. */
export function systemLogStatement(env: Env, e: SystemLogEntry): D1PreparedStatement {
  return insertSystemLog(env.DB, {
    id: e.id ?? crypto.randomUUID(),
    category: e.category,
    level: e.level,
    source: e.source.slice(0, 200),
    message: e.message.slice(0, 4000),
    requestId: e.request_id ?? null,
    userId: e.user_id ?? null,
    method: e.method ?? null,
    path: e.path?.slice(0, 500) ?? null,
    statusCode: e.status_code ?? null,
    durationMs: e.duration_ms ?? null,
    weight: e.weight ?? 1,
    data: e.data === undefined ? null : JSON.stringify(e.data).slice(0, 16_000),
    createdAt: e.created_at ?? null,
  });
}

/**
 * Runs a batch of log/audit inserts, retrying transient failures (3 attempts, 50/200 ms apart);
 * what still fails is printed as JSON lines rather than lost silently. Answers whether it was written.
 */
export async function writeDurably(env: Env, statements: AnyStatement[], describe: () => unknown[]): Promise<boolean> {
  if (!statements.length) return true;
  for (let attempt = 1; ; attempt++) {
    try {
      await runBatch(env.DB, statements);
      return true;
    } catch (e) {
      if (attempt >= 3) {
        console.error(JSON.stringify({ type: 'log_write_failed', error: String(e), entries: describe() }));
        return false;
      }
      await new Promise((r) => setTimeout(r, attempt === 1 ? 50 : 200));
    }
  }
}

/** An application log line (category `app`), e.g. from alert evaluation or webhooks. */
export async function logApp(env: Env, level: LogLevel, source: string, message: string, data?: unknown): Promise<void> {
  const entry: SystemLogEntry = { category: 'app', level, source, message, data };
  await writeDurably(env, [systemLogStatement(env, entry)], () => [entry]);
}

/**
 * A background job's run (category `job`, with its duration): a queue batch or a cron run. `ok`
 * false (a batch that threw: every message is delivered again) is a warning, a failed attempt.
 */
export async function logJob(env: Env, source: string, ok: boolean, durationMs: number, message: string, data?: unknown): Promise<void> {
  const entry: SystemLogEntry = { category: 'job', level: ok ? 'info' : 'warn', source, message, duration_ms: durationMs, data };
  await writeDurably(env, [systemLogStatement(env, entry)], () => [entry]);
}

/** What a queue consumer or cron step failed at, for {@link logJobFailure}. */
export interface JobFailure {
  /** The job: `queue:<queue name>` or `cron:<step>`. */
  job: string;
  /** True when nothing will try again: a dead letter, the last attempt, a permanent error, a dropped message. */
  gaveUp: boolean;
  /** The queue message. */
  messageId?: string;
  /** Its delivery attempt (1 is the first). */
  attempt?: number;
  /** What the message or step concerns, e.g. `{ type: 'feishu_event', id: 'ev_1' }`. */
  resource?: { type: string; id: string };
  /** What went wrong. A dead-letter consumer, which is not told, leaves it out: the last failed attempt recorded for the resource says it. */
  cause?: unknown;
  userId?: string | null;
}

const causeText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Records a background failure in the system log (category `job`, source the job): a failed
 * attempt that will be retried as `warn`, a give-up as `error`; the message names the resource
 * and the cause, `data` holds job, message_id, attempt, resource_type, resource_id and cause.
 * Every queue consumer and the cron runner record their failures here (and Workers Logs gets the
 * same line printed).
 */
export async function logJobFailure(env: Env, f: JobFailure): Promise<void> {
  let cause = f.cause === undefined ? undefined : causeText(f.cause);
  if (cause === undefined && f.resource) {
    const last = await lastJobFailureCause(env.DB, f.resource.type, f.resource.id).catch(() => null);
    cause = last ? `delivered repeatedly without success; the last attempt: ${last}` : undefined;
  }
  cause ??= 'delivered repeatedly without success';
  const what = f.resource ? `${f.resource.type} ${f.resource.id}` : f.messageId ? `message ${f.messageId}` : 'the step';
  const message = f.gaveUp ? `${f.job}: gave up on ${what}: ${cause}` : `${f.job}: ${f.attempt ? `attempt ${f.attempt}` : 'a run'} on ${what} failed, to be retried: ${cause}`;
  const data = {
    job: f.job,
    message_id: f.messageId ?? null,
    attempt: f.attempt ?? null,
    resource_type: f.resource?.type ?? null,
    resource_id: f.resource?.id ?? null,
    cause,
    gave_up: f.gaveUp,
  };
  const entry: SystemLogEntry = { category: 'job', level: f.gaveUp ? 'error' : 'warn', source: f.job, message, user_id: f.userId ?? null, data };
  console.error(JSON.stringify({ type: 'job_failure', ...data }));
  await writeDurably(env, [systemLogStatement(env, entry)], () => [entry]);
}
