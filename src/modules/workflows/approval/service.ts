import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, conflict, notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { accessibleRow, executionFilter, executionStub } from '../executions/service';

type ApprovalRow = {
  id: string;
  execution_id: string;
  node_id: string;
  owner_id: string;
  approver_id: string | null;
  title: string;
  description: string;
  status: 'pending' | 'approved' | 'rejected' | 'timed_out' | 'cancelled';
  comment: string | null;
  decided_by: string | null;
  decided_at: string | null;
  timeout_at: string | null;
  created_at: string;
};

/**
 * Approvals I may decide: I am the designated approver, or I may control the run (I started it,
 * or I may execute its workflow or agent: authorizeExecution).
 */
export async function listMine(env: Env, user: AuthUser, q: Pagination & { status: string }) {
  const { limit, offset } = pageBounds(q);
  const runs = await executionFilter(env, user, 'e.', 'execute');
  const mine = runs ? `(approver_id = ? OR owner_id = ? OR execution_id IN (SELECT e.id FROM executions e WHERE ${runs.sql}))` : '1';
  const binds = runs ? [user.id, user.id, ...runs.binds] : [];
  const clause = `${mine} AND status = ?`;
  const [count, rows] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT count(*) AS n FROM approvals WHERE ${clause}`).bind(...binds, q.status),
    env.DB.prepare(`SELECT * FROM approvals WHERE ${clause} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`).bind(...binds, q.status, limit, offset),
  ]);
  return paginated(rows.results as unknown as ApprovalRow[], (count.results[0] as { n: number }).n, q);
}

export async function decide(env: Env, user: AuthUser, id: string, body: { decision: 'approve' | 'reject'; comment?: string; wait_ms: number }) {
  const row = await env.DB.prepare('SELECT * FROM approvals WHERE id = ?').bind(id).first<ApprovalRow>();
  if (!row) throw notFound('Approval');
  // The designated approver decides; so does whoever may control the run (403 for those who
  // may only read it). Anyone else learns nothing about the approval.
  if (row.approver_id !== user.id && row.owner_id !== user.id) {
    try {
      await accessibleRow(env, user, row.execution_id, 'execute');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw notFound('Approval');
      throw e;
    }
  }
  const status = body.decision === 'approve' ? 'approved' : 'rejected';
  // Conditional on pending: a timeout or another decision that won the race stands.
  const res = await env.DB.prepare(
    `UPDATE approvals SET status = ?, comment = ?, decided_by = ?, decided_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
     WHERE id = ? AND status = 'pending'`,
  )
    .bind(status, body.comment ?? null, user.id, id)
    .run();
  if (res.meta.changes === 0) throw conflict(`This approval was already ${row.status === 'pending' ? 'decided' : row.status.replace('_', ' ')}`);
  const outcome = await executionStub(env, row.execution_id).decide(
    row.node_id,
    { decision: status, comment: body.comment ?? null, decided_by: user.id },
    body.wait_ms,
  );
  const updated = (await env.DB.prepare('SELECT * FROM approvals WHERE id = ?').bind(id).first<ApprovalRow>())!;
  return { ...updated, execution_status: outcome.snapshot?.status ?? 'unknown' };
}
