import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, conflict, notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { executionStub } from '../../../runs/workflow-run';
import { accessibleRow, executionFilter } from '../executions/service';
import { decidableWhere, decidePending, findApproval, listApprovals, type ApprovalRow } from './store';

function toApproval(r: ApprovalRow) {
  return {
    id: r.id,
    execution_id: r.executionId,
    node_id: r.nodeId,
    owner_id: r.ownerId,
    approver_id: r.approverId,
    title: r.title,
    description: r.description,
    status: r.status,
    comment: r.comment,
    decided_by: r.decidedBy,
    decided_at: r.decidedAt,
    timeout_at: r.timeoutAt,
    created_at: r.createdAt,
  };
}

/**
 * Approvals I may decide: I am the designated approver, or I may control the run (I started it,
 * or I may execute its workflow or agent: authorizeExecution).
 */
export async function listMine(env: Env, user: AuthUser, q: Pagination & { status: string }) {
  const { limit, offset } = pageBounds(q);
  const decidable = decidableWhere(env.DB, user.id, await executionFilter(env, user, 'execute'));
  const { rows, total } = await listApprovals(env.DB, { decidable, status: q.status, limit, offset });
  return paginated(rows.map(toApproval), total, q);
}

export async function decide(env: Env, user: AuthUser, id: string, body: { decision: 'approve' | 'reject'; comment?: string; wait_ms: number }) {
  const row = await findApproval(env.DB, id);
  if (!row) throw notFound('Approval');
  // The designated approver decides; so does whoever may control the run (403 for those who
  // may only read it). Anyone else learns nothing about the approval.
  if (row.approverId !== user.id && row.ownerId !== user.id) {
    try {
      await accessibleRow(env, user, row.executionId, 'execute');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw notFound('Approval');
      throw e;
    }
  }
  const status = body.decision === 'approve' ? 'approved' : 'rejected';
  // Conditional on pending: a timeout or another decision that won the race stands.
  if (!(await decidePending(env.DB, id, { status, comment: body.comment ?? null, decidedBy: user.id }))) {
    throw conflict(`This approval was already ${row.status === 'pending' ? 'decided' : row.status.replace('_', ' ')}`);
  }
  const outcome = await executionStub(env, row.executionId).decide(row.nodeId, { decision: status, comment: body.comment ?? null, decided_by: user.id }, body.wait_ms);
  const updated = (await findApproval(env.DB, id))!;
  return { ...toApproval(updated), execution_status: outcome.snapshot?.status ?? 'unknown' };
}
