import { and, count, desc, eq, sql, type SQL, asc } from 'drizzle-orm';
import { db, now, rowByIdSql, type Statement, likeContains } from '../../../db/client';
import { workflows, workflowVersions } from '../../../db/schema/workflows';

/** The owner and resource-id columns of listed workflows, for authorize's readableWhere(). */
export const workflowAccess = { ownerId: workflows.ownerId, id: workflows.id };

/** A workflow: the current graph (JSON text) and its version. */
export type WorkflowRow = typeof workflows.$inferSelect;
/** One stored version of a workflow (immutable history). */
export type WorkflowVersionRow = typeof workflowVersions.$inferSelect;

export async function findWorkflow(d1: D1Database, id: string): Promise<WorkflowRow | null> {
  return (await findWorkflowStatement(d1, id).get()) ?? null;
}

/** The workflow's row as a statement of a batch (its result: zero or one WorkflowRow). */
export function findWorkflowStatement(d1: D1Database, id: string) {
  return db(d1).select().from(workflows).where(eq(workflows.id, id));
}

const WORKFLOW_BY_ID = rowByIdSql(workflows);

/** The same read as a raw statement (its result: D1Result<WorkflowRow>) — the webhook's hot path: no per-call query building. */
export function workflowRowStatement(d1: D1Database, id: string): D1PreparedStatement {
  return d1.prepare(WORKFLOW_BY_ID).bind(id);
}

/** SQL text: every workflow's id, owner and name, a subquery for other stores' raw hot-path joins (the webhook's). */
export const WORKFLOW_REFS_SQL = '(SELECT "id", "owner_id", "name" FROM "workflows")';

/** The ids of the workflows matching `where` (a subquery for other stores' filters). */
export function workflowIdsWhere(d1: D1Database, where: SQL | undefined) {
  return db(d1).select({ id: workflows.id }).from(workflows).where(where);
}

/** One page of workflows, newest change first, and the total; one round trip. */
export async function listWorkflows(
  d1: D1Database,
  q: { readable?: SQL; search?: string; status?: string; limit: number; offset: number },
): Promise<{ rows: WorkflowRow[]; total: number }> {
  const where = and(
    q.readable,
    q.search ? sql`(${likeContains(workflows.name, q.search)} OR ${likeContains(workflows.description, q.search)})` : undefined,
    q.status ? eq(workflows.status, q.status as WorkflowRow['status']) : undefined,
  );
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(workflows).where(where),
    db(d1).select().from(workflows).where(where).orderBy(desc(workflows.updatedAt), workflows.id).limit(q.limit).offset(q.offset),
  ]);
  return { rows, total };
}

export interface WorkflowFields {
  name: string;
  description: string;
  /** JSON text of the graph and of the inputs schema. */
  graph: string;
  inputsSchema: string;
  status: WorkflowRow['status'];
}

/** The INSERTs of a workflow and its version 1 (one batch). */
export function insertWorkflowStatements(
  d1: D1Database,
  wf: WorkflowFields & { id: string; ownerId: string; templateId: string | null; note: string },
): [Statement, Statement] {
  const { note, ...fields } = wf;
  return [
    db(d1).insert(workflows).values({ ...fields, version: 1 }),
    db(d1)
      .insert(workflowVersions)
      .values({ workflowId: wf.id, version: 1, name: wf.name, description: wf.description, graph: wf.graph, inputsSchema: wf.inputsSchema, note, createdBy: wf.ownerId }),
  ];
}

/**
 * Moves a workflow from version `from` to `from + 1` and appends that version to the history, in
 * one batch; false when someone saved in between (the UPDATE's version check matched nothing, and
 * the INSERT only runs after a change).
 */
export async function saveWorkflowVersion(d1: D1Database, id: string, from: number, next: WorkflowFields & { note: string; createdBy: string }): Promise<boolean> {
  const version = from + 1;
  const [updated] = await db(d1).batch([
    db(d1)
      .update(workflows)
      .set({ name: next.name, description: next.description, graph: next.graph, inputsSchema: next.inputsSchema, status: next.status, version, updatedAt: now() })
      .where(and(eq(workflows.id, id), eq(workflows.version, from)))
      .returning({ id: workflows.id }),
    // The history gains the row as just updated; nothing when the UPDATE matched nothing.
    db(d1)
      .insert(workflowVersions)
      .select(
        db(d1)
          .select({
            workflowId: workflows.id,
            version: workflows.version,
            name: workflows.name,
            description: workflows.description,
            graph: workflows.graph,
            inputsSchema: workflows.inputsSchema,
            note: sql<string>`${next.note}`.as('note'),
            createdBy: sql<string>`${next.createdBy}`.as('created_by'),
            createdAt: sql<string>`${now()}`.as('created_at'),
          })
          .from(workflows)
          .where(and(eq(workflows.id, id), eq(workflows.version, version), sql`changes() > 0`)),
      ),
  ]);
  return updated.length > 0;
}

/** The definition and its history go (executions stay for the record). */
export function deleteWorkflowStatements(d1: D1Database, id: string): Statement[] {
  return [db(d1).delete(workflowVersions).where(eq(workflowVersions.workflowId, id)), db(d1).delete(workflows).where(eq(workflows.id, id))];
}

const versionListed = {
  workflowId: workflowVersions.workflowId,
  version: workflowVersions.version,
  name: workflowVersions.name,
  description: workflowVersions.description,
  note: workflowVersions.note,
  createdBy: workflowVersions.createdBy,
  createdAt: workflowVersions.createdAt,
};
export type ListedVersion = Pick<WorkflowVersionRow, keyof typeof versionListed>;

export async function listVersions(d1: D1Database, id: string, limit: number, offset: number): Promise<{ rows: ListedVersion[]; total: number }> {
  const of = eq(workflowVersions.workflowId, id);
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(workflowVersions).where(of),
    db(d1).select(versionListed).from(workflowVersions).where(of).orderBy(desc(workflowVersions.version)).limit(limit).offset(offset),
  ]);
  return { rows, total };
}

export async function findVersion(d1: D1Database, id: string, version: number): Promise<WorkflowVersionRow | null> {
  return (await db(d1).select().from(workflowVersions).where(and(eq(workflowVersions.workflowId, id), eq(workflowVersions.version, version))).get()) ?? null;
}

// ── for collaboration ──

/** The fields a collaboration room edits, with the version; null when there is no such workflow. */
export async function findWorkflowDocument(d1: D1Database, id: string) {
  const [row] = await db(d1)
    .select({ name: workflows.name, description: workflows.description, graph: workflows.graph, inputsSchema: workflows.inputsSchema, version: workflows.version })
    .from(workflows)
    .where(eq(workflows.id, id));
  return row ?? null;
}

// ── for monitoring ──

/** The number of workflows (of one owner), as a statement for a batch. */
export const countWorkflows = (d1: D1Database, ownerId?: string) =>
  db(d1)
    .select({ total: count() })
    .from(workflows)
    .where(ownerId ? eq(workflows.ownerId, ownerId) : undefined);

// ── for permissions ──

/** A workflow's id and owner, for authorize(); null when there is none. */
export async function findResourceRef(d1: D1Database, id: string): Promise<{ id: string; owner_id: string } | null> {
  const [row] = await db(d1).select({ id: workflows.id, owner_id: workflows.ownerId }).from(workflows).where(eq(workflows.id, id));
  return row ?? null;
}

// ── for webhooks ──

/** Workflows' id, owner, name and creation time as a subquery to join (webhooks find their workflow by id or name). */
export function workflowRefs(d1: D1Database) {
  const w = workflows;
  return db(d1).select({ id: w.id, ownerId: w.ownerId, name: w.name, createdAt: w.createdAt }).from(w).as('w');
}

// ── for mcp ──
const runnable = { id: workflows.id, name: workflows.name, description: workflows.description, inputsSchema: workflows.inputsSchema };

/** Active workflows matching `where` (the caller's access condition), oldest first. */
export function activeWorkflows(d1: D1Database, where: SQL | undefined) {
  return db(d1)
    .select(runnable)
    .from(workflows)
    .where(and(eq(workflows.status, 'active'), where))
    .orderBy(asc(workflows.createdAt), asc(workflows.id));
}

/** The active workflow with this id, if it matches `where`. */
export async function findActiveWorkflow(d1: D1Database, id: string, where: SQL | undefined) {
  const [row] = await db(d1)
    .select(runnable)
    .from(workflows)
    .where(and(eq(workflows.id, id), eq(workflows.status, 'active'), where))
    .limit(1);
  return row ?? null;
}

// ── for template-market ──
/** Whether the workflow exists and belongs to `ownerId`. */
export async function isOwnWorkflow(d1: D1Database, id: string, ownerId: string): Promise<boolean> {
  const [row] = await db(d1)
    .select({ id: workflows.id })
    .from(workflows)
    .where(and(eq(workflows.id, id), eq(workflows.ownerId, ownerId)))
    .limit(1);
  return row !== undefined;
}
