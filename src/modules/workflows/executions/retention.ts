import { runBatch } from '../../../db/client';
import type { Env } from '../../../env';
import { retentionCutoff } from '../../../lib/time-range';
import { deleteApprovalsOfRunsStatement } from '../approval/store';
import { deleteLogsOfRunsStatement } from '../execution-logs/store';
import { deleteRunsStatements, expiredRunIds } from './store';

/** Runs deleted per cron run: bounded, so one run stays cheap even after a long gap. */
const CHUNK = 500;

/**
 * The cron step that expires finished runs' records from D1 (EXECUTION_RECORD_RETENTION_DAYS,
 * default 90): a run, its node rows, its log entries and its approvals or forms, together in one
 * batch, so no run is left half deleted. Its Execution object's storage went long before
 * (EXECUTION_STORAGE_RETENTION_DAYS); retry and fork need the record, so they end here.
 */
export async function enforceExecutionRetention(env: Env): Promise<{ executions: number }> {
  const ids = expiredRunIds(env.DB, retentionCutoff(env.EXECUTION_RECORD_RETENTION_DAYS, 90), CHUNK);
  const results = (await runBatch(env.DB, [
    deleteLogsOfRunsStatement(env.DB, ids),
    deleteApprovalsOfRunsStatement(env.DB, ids),
    ...deleteRunsStatements(env.DB, ids),
  ])) as D1Result[];
  return { executions: results[results.length - 1]!.meta.changes };
}
