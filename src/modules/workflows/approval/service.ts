import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, conflict, notFound, validationError } from '../../../lib/errors';
import { checkFormValues } from '../../../engine/workflow/nodes/human-input';
import type { FormField } from '../../../engine/workflow/types';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { executionStub } from '../../../runs/workflow-run';
import { accessibleRow, executionFilter } from '../executions/service';
import { decidableWhere, decidePending, findApproval, listApprovals, submitPending, type ApprovalRow } from './store';

function toApproval(r: ApprovalRow) {
  return {
    id: r.id,
    execution_id: r.executionId,
    node_id: r.nodeId,
    kind: r.kind,
    owner_id: r.ownerId,
    approver_id: r.approverId,
    title: r.title,
    description: r.description,
    status: r.status,
    comment: r.comment,
    fields: r.fields ? (JSON.parse(r.fields) as FormField[]) : null,
    values: r.values ? (JSON.parse(r.values) as Record<string, unknown>) : null,
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
export async function listMine(env: Env, user: AuthUser, q: Pagination & { status: string; kind?: 'approval' | 'input' }) {
  const { limit, offset } = pageBounds(q);
  const decidable = decidableWhere(env.DB, user.id, await executionFilter(env, user, 'execute'));
  const { rows, total } = await listApprovals(env.DB, { decidable, status: q.status, kind: q.kind, limit, offset });
  return paginated(rows.map(toApproval), total, q);
}

/**
 * The approval (or input) `user` may answer: the designated approver or assignee, or whoever
 * may control the run (403 for those who may only read it). Anyone else learns nothing of it.
 */
async function answerable(env: Env, user: AuthUser, id: string): Promise<ApprovalRow> {
  const row = await findApproval(env.DB, id);
  if (!row) throw notFound('Approval');
  if (row.approverId !== user.id && row.ownerId !== user.id) {
    try {
      await accessibleRow(env, user, row.executionId, 'execute');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw notFound('Approval');
      throw e;
    }
  }
  return row;
}

const settledAs = (row: ApprovalRow) => (row.status === 'pending' ? (row.kind === 'input' ? 'submitted' : 'decided') : row.status.replace('_', ' '));

export async function decide(env: Env, user: AuthUser, id: string, body: { decision: 'approve' | 'reject'; comment?: string; wait_ms: number }) {
  const row = await answerable(env, user, id);
  if (row.kind === 'input') throw conflict(`This is a form to fill in: POST /approval/${id}/submit with its values`);
  const status = body.decision === 'approve' ? 'approved' : 'rejected';
  // Conditional on pending: a timeout or another decision that won the race stands.
  if (!(await decidePending(env.DB, id, { status, comment: body.comment ?? null, decidedBy: user.id }))) {
    throw conflict(`This approval was already ${settledAs(row)}`);
  }
  const outcome = await executionStub(env, row.executionId).decide(row.nodeId, { decision: status, comment: body.comment ?? null, decided_by: user.id }, body.wait_ms);
  const updated = (await findApproval(env.DB, id))!;
  return { ...toApproval(updated), execution_status: outcome.snapshot?.status ?? 'unknown' };
}

/**
 * Submits a human_input form: the values are checked against its fields (422 naming the field;
 * unknown fields refused; defaults applied; lossless coercion only), recorded by a conditional
 * update (only the first of two submissions wins: 409 for the other), and the run continues with
 * them as the node's output.
 */
export async function submit(env: Env, user: AuthUser, id: string, body: { values: Record<string, unknown>; wait_ms: number }) {
  const row = await answerable(env, user, id);
  if (row.kind !== 'input') throw conflict(`This is an approval: POST /approval/${id}/decide with approve or reject`);
  if (row.status !== 'pending') throw conflict(`This form was already ${settledAs(row)}`);
  const checked = checkFormValues(JSON.parse(row.fields ?? '[]') as FormField[], body.values);
  if (checked.problems.length) throw validationError(`body.values.${checked.problems.join('; body.values.')}`);
  if (!(await submitPending(env.DB, id, { values: JSON.stringify(checked.values), decidedBy: user.id }))) {
    throw conflict(`This form was already ${settledAs((await findApproval(env.DB, id)) ?? row)}`);
  }
  const outcome = await executionStub(env, row.executionId).decide(row.nodeId, { decision: 'submitted', comment: null, decided_by: user.id, values: checked.values }, body.wait_ms);
  const updated = (await findApproval(env.DB, id))!;
  return { ...toApproval(updated), execution_status: outcome.snapshot?.status ?? 'unknown' };
}
