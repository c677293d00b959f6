import type { Env } from '../../../env';
import { runBatch } from '../../../db/client';
import { deleteAuditLogsBefore } from '../audit-logs/store';
import { deleteSystemLogsBefore } from './store';
import { retentionCutoff } from '../../../lib/time-range';

/** Rows deleted per table per cron run: bounded, so one run stays cheap even after a long gap. */
const CHUNK = 5000;

/** The cron step that enforces log retention (system logs 14 days, audit 365, by default). */
export async function enforceLogRetention(env: Env): Promise<{ system_logs: number; audit_logs: number }> {
  const now = Date.now();
  const systemCutoff = retentionCutoff(env.SYSTEM_LOG_RETENTION_DAYS, 14, now);
  const auditCutoff = retentionCutoff(env.AUDIT_LOG_RETENTION_DAYS, 365, now);
  const [system, audit] = (await runBatch(env.DB, [deleteSystemLogsBefore(env.DB, systemCutoff, CHUNK), deleteAuditLogsBefore(env.DB, auditCutoff, CHUNK)])) as D1Result[];
  return { system_logs: system.meta.changes, audit_logs: audit.meta.changes };
}
