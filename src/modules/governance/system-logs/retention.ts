import type { Env } from '../../../env';
import { runBatch } from '../../../db/client';
import { deleteAuditLogsBefore } from '../audit-logs/store';
import { deleteSystemLogsBefore } from './store';

const DAY_MS = 86_400_000;
/** Rows deleted per table per cron run: bounded, so one run stays cheap even after a long gap. */
const CHUNK = 5000;

function days(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The cron step that enforces log retention (system logs 14 days, audit 365, by default). */
export async function enforceLogRetention(env: Env): Promise<{ system_logs: number; audit_logs: number }> {
  const now = Date.now();
  const systemCutoff = new Date(now - days(env.SYSTEM_LOG_RETENTION_DAYS, 14) * DAY_MS).toISOString();
  const auditCutoff = new Date(now - days(env.AUDIT_LOG_RETENTION_DAYS, 365) * DAY_MS).toISOString();
  const [system, audit] = (await runBatch(env.DB, [deleteSystemLogsBefore(env.DB, systemCutoff, CHUNK), deleteAuditLogsBefore(env.DB, auditCutoff, CHUNK)])) as D1Result[];
  return { system_logs: system.meta.changes, audit_logs: audit.meta.changes };
}
