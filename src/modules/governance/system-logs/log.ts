import type { Env } from '../../../env';
import type { LogLevel, SystemLogEntry } from '../../../queues';
import { runBatch, type AnyStatement } from '../../../db/client';
import { insertSystemLog } from './store';

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
 * what still fails is printed as JSON lines rather than lost silently.
 */
export async function writeDurably(env: Env, statements: AnyStatement[], describe: () => unknown[]): Promise<void> {
  if (!statements.length) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await runBatch(env.DB, statements);
      return;
    } catch (e) {
      if (attempt >= 3) {
        console.error(JSON.stringify({ type: 'log_write_failed', error: String(e), entries: describe() }));
        return;
      }
      await new Promise((r) => setTimeout(r, attempt === 1 ? 50 : 200));
    }
  }
}

/** An application log line (category `app`), e.g. from alert evaluation or webhooks. */
export function logApp(env: Env, level: LogLevel, source: string, message: string, data?: unknown): Promise<void> {
  const entry: SystemLogEntry = { category: 'app', level, source, message, data };
  return writeDurably(env, [systemLogStatement(env, entry)], () => [entry]);
}

/** A background job's run (category `job`): cron steps, queue batches. */
export function logJob(env: Env, source: string, ok: boolean, durationMs: number, message: string, data?: unknown): Promise<void> {
  const entry: SystemLogEntry = { category: 'job', level: ok ? 'info' : 'error', source, message, duration_ms: durationMs, data };
  return writeDurably(env, [systemLogStatement(env, entry)], () => [entry]);
}
