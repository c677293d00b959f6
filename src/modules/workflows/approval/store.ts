import { and, count, desc, eq, inArray, or, type SQL, type SQLWrapper } from 'drizzle-orm';
import { db, now, type Statement } from '../../../db/client';
import { approvals } from '../../../db/schema/approval';
import { runIdsWhere } from '../executions/store';

export type ApprovalRow = typeof approvals.$inferSelect;
export type ApprovalStatus = ApprovalRow['status'];

/**
 * Approvals a user may decide: theirs to approve, of their runs, or of the runs matching `runs`
 * (undefined: every approval).
 */
export function decidableWhere(d1: D1Database, userId: string, runs: SQL | undefined): SQL | undefined {
  if (!runs) return undefined;
  return or(eq(approvals.approverId, userId), eq(approvals.ownerId, userId), inArray(approvals.executionId, runIdsWhere(d1, runs)));
}

export async function listApprovals(d1: D1Database, q: { decidable?: SQL; status: string; kind?: ApprovalRow['kind']; limit: number; offset: number }): Promise<{ rows: ApprovalRow[]; total: number }> {
  const where = and(q.decidable, eq(approvals.status, q.status as ApprovalStatus), q.kind ? eq(approvals.kind, q.kind) : undefined);
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(approvals).where(where),
    db(d1).select().from(approvals).where(where).orderBy(desc(approvals.createdAt), approvals.id).limit(q.limit).offset(q.offset),
  ]);
  return { rows, total };
}

export async function findApproval(d1: D1Database, id: string): Promise<ApprovalRow | null> {
  return (await db(d1).select().from(approvals).where(eq(approvals.id, id)).get()) ?? null;
}

/** Decides a still-pending approval; false when a timeout or another decision won the race. */
export async function decidePending(d1: D1Database, id: string, d: { status: 'approved' | 'rejected'; comment: string | null; decidedBy: string }): Promise<boolean> {
  const done = await db(d1)
    .update(approvals)
    .set({ status: d.status, comment: d.comment, decidedBy: d.decidedBy, decidedAt: now() })
    .where(and(eq(approvals.id, id), eq(approvals.kind, 'approval'), eq(approvals.status, 'pending')))
    .returning({ id: approvals.id });
  return done.length > 0;
}

/** Times out a still-pending approval; false when a decision won the race. */
export async function timeOutPending(d1: D1Database, id: string): Promise<boolean> {
  const done = await db(d1)
    .update(approvals)
    .set({ status: 'timed_out', decidedAt: now() })
    .where(and(eq(approvals.id, id), eq(approvals.status, 'pending')))
    .returning({ id: approvals.id });
  return done.length > 0;
}

/** The pending approval a node of a run already asked for, if any. */
export async function findPendingApproval(d1: D1Database, executionId: string, nodeId: string): Promise<string | null> {
  const row = await db(d1)
    .select({ id: approvals.id })
    .from(approvals)
    .where(and(eq(approvals.executionId, executionId), eq(approvals.nodeId, nodeId), eq(approvals.status, 'pending')))
    .get();
  return row?.id ?? null;
}

export function insertApprovalStatement(
  d1: D1Database,
  row: Pick<ApprovalRow, 'id' | 'executionId' | 'nodeId' | 'ownerId' | 'approverId' | 'title' | 'description' | 'timeoutAt'> & Partial<Pick<ApprovalRow, 'kind' | 'fields'>>,
): Statement {
  return db(d1).insert(approvals).values(row);
}

/** Records the values of a still-pending input; false when a timeout or another submission won the race. */
export async function submitPending(d1: D1Database, id: string, d: { values: string; decidedBy: string }): Promise<boolean> {
  const done = await db(d1)
    .update(approvals)
    .set({ status: 'submitted', values: d.values, decidedBy: d.decidedBy, decidedAt: now() })
    .where(and(eq(approvals.id, id), eq(approvals.kind, 'input'), eq(approvals.status, 'pending')))
    .returning({ id: approvals.id });
  return done.length > 0;
}

/** A cancelled run's pending approvals are cancelled too. */
/** Deletes the approvals and forms of the runs a subquery selects (a run's record expiring: executions/retention.ts). */
export function deleteApprovalsOfRunsStatement(d1: D1Database, runIds: SQLWrapper): Statement {
  return db(d1).delete(approvals).where(inArray(approvals.executionId, runIds));
}

export function cancelPendingStatement(d1: D1Database, executionId: string): Statement {
  return db(d1)
    .update(approvals)
    .set({ status: 'cancelled' })
    .where(and(eq(approvals.executionId, executionId), eq(approvals.status, 'pending')));
}
