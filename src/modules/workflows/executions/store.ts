import { and, count, desc, eq, getTableColumns, inArray, isNotNull, lt, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { db, insertRowsSql, now, rowValues, type Statement, sqlQuery } from '../../../db/client';
import { executionNodes, executions } from '../../../db/schema/executions';
import { agentIdsWhere } from '../../agents/agents/store';
import { workflowIdsWhere } from '../workflows/store';
import { normalisedStatus, percentileSql } from '../../../lib/stats-sql';

/** One run (a workflow's, an agent's workflow, or an inline agent run when `mode` is set). */
export type ExecutionRow = typeof executions.$inferSelect;
export type NewExecution = typeof executions.$inferInsert;
/** Per-node record of a run. */
export type ExecutionNodeRow = typeof executionNodes.$inferSelect;
export type NewExecutionNode = typeof executionNodes.$inferInsert;

/** A row as D1 answers it (snake_case columns, e.g. from a batch of raw statements) typed as the schema's. */
export function executionFromRaw(raw: Record<string, unknown>): ExecutionRow {
  const cols = getTableColumns(executions);
  return Object.fromEntries(Object.entries(cols).map(([key, col]) => [key, raw[col.name] ?? null])) as ExecutionRow;
}

export async function findExecution(d1: D1Database, id: string): Promise<ExecutionRow | null> {
  return (await db(d1).select().from(executions).where(eq(executions.id, id)).get()) ?? null;
}

export async function insertExecution(d1: D1Database, row: NewExecution): Promise<void> {
  await db(d1).insert(executions).values(row);
}

// A run recorded whole and its nodes: raw statements made once per shape (the inline run's and the
// Execution object's mirror: no per-call query building).
const RUN_FIELDS = Object.keys(getTableColumns(executions));

/** A run recorded whole, every column given (an inline workflow run, at its end). */
export function insertExecutionStatement(d1: D1Database, row: ExecutionRow): D1PreparedStatement {
  return d1.prepare(insertRowsSql(executions, RUN_FIELDS, 1)).bind(...rowValues(executions, RUN_FIELDS, [row]));
}

/**
 * The runs a user may read (or control): their own and the runs of workflows and agents matching
 * `workflows` / `agents` (conditions over those tables; undefined: every run of a workflow / of an
 * agent).
 */
export function readableRunsWhere(d1: D1Database, userId: string, readable: { workflows?: SQL; agents?: SQL }): SQL {
  return or(
    eq(executions.ownerId, userId),
    readable.workflows ? inArray(executions.workflowId, workflowIdsWhere(d1, readable.workflows)) : isNotNull(executions.workflowId),
    readable.agents ? inArray(executions.agentId, agentIdsWhere(d1, readable.agents)) : isNotNull(executions.agentId),
  )!;
}

/** The ids of the runs matching `where` (a subquery for logs and approvals). */
export function runIdsWhere(d1: D1Database, where: SQL | undefined) {
  return db(d1).select({ id: executions.id }).from(executions).where(where);
}

export interface RunFilter {
  readable?: SQL;
  workflowId?: string;
  agentId?: string;
  status?: string;
  /** ISO bounds on created_at. */
  since?: string;
  until?: string;
}

/** The condition over executions of a filter (readable runs, a workflow, a time window...). */
export function runsWhere(f: RunFilter): SQL | undefined {
  return and(
    f.readable,
    f.workflowId ? eq(executions.workflowId, f.workflowId) : undefined,
    f.agentId ? eq(executions.agentId, f.agentId) : undefined,
    f.status ? eq(executions.status, f.status as ExecutionRow['status']) : undefined,
    f.since ? sql`${executions.createdAt} >= ${f.since}` : undefined,
    f.until ? sql`${executions.createdAt} <= ${f.until}` : undefined,
  );
}

const { graph: _graph, ...listed } = getTableColumns(executions);
export type ListedExecution = Omit<ExecutionRow, 'graph'>;

/** One page of runs (newest first, without their graphs) and the total; one round trip. */
export async function listExecutions(d1: D1Database, f: RunFilter, limit: number, offset: number): Promise<{ rows: ListedExecution[]; total: number }> {
  const where = runsWhere(f);
  const [[{ total }], rows] = await db(d1).batch([
    db(d1).select({ total: count() }).from(executions).where(where),
    db(d1).select(listed).from(executions).where(where).orderBy(desc(executions.createdAt), executions.id).limit(limit).offset(offset),
  ]);
  return { rows, total };
}

export async function nodesOf(d1: D1Database, executionId: string): Promise<ExecutionNodeRow[]> {
  return db(d1).select().from(executionNodes).where(eq(executionNodes.executionId, executionId));
}

/** A run's nodes for timings and the call chain: started ones by start time, then the others. */
export async function nodeTimings(d1: D1Database, executionId: string) {
  return db(d1)
    .select({
      nodeId: executionNodes.nodeId,
      nodeType: executionNodes.nodeType,
      label: executionNodes.label,
      status: executionNodes.status,
      durationMs: executionNodes.durationMs,
      startedAt: executionNodes.startedAt,
      calls: executionNodes.calls,
      error: executionNodes.error,
      totalTokens: executionNodes.totalTokens,
    })
    .from(executionNodes)
    .where(eq(executionNodes.executionId, executionId))
    .orderBy(sql`${executionNodes.startedAt} IS NULL`, executionNodes.startedAt, executionNodes.nodeId);
}

// --- inline runs (POST /agents/{id}/execute) -----------------------------------------------

/** Marks inline runs still running that started before `before` failed with `error` (JSON). */
export async function failInlineRunsStartedBefore(d1: D1Database, before: string, at: string, error: string) {
  return db(d1)
    .update(executions)
    .set({ status: 'failed', error, finishedAt: at, updatedAt: at })
    .where(and(isNotNull(executions.mode), eq(executions.status, 'running'), lt(executions.startedAt, before)));
}

// --- retention -------------------------------------------------------------------------------

/**
 * The ids of at most `limit` finished runs that ended before `cutoff`, oldest first: the subquery
 * every statement of one retention batch deletes by (the runs' own rows go last).
 */
export function expiredRunIds(d1: D1Database, cutoff: string, limit: number) {
  return db(d1)
    .select({ id: executions.id })
    .from(executions)
    .where(and(inArray(executions.status, ['succeeded', 'failed', 'cancelled']), lt(executions.finishedAt, cutoff)))
    .orderBy(executions.finishedAt, executions.id)
    .limit(limit);
}

/** Deletes the runs `ids` names and their node rows (the node rows first, while the ids still select). */
export function deleteRunsStatements(d1: D1Database, ids: SQLWrapper): Statement[] {
  return [db(d1).delete(executionNodes).where(inArray(executionNodes.executionId, ids)), db(d1).delete(executions).where(inArray(executions.id, ids))];
}

/** The end of a run: its row updated (and returned by the batch). */
export function finishExecutionStatement(d1: D1Database, id: string, end: Partial<NewExecution>) {
  return db(d1).update(executions).set(end).where(eq(executions.id, id)).returning();
}


// --- the Execution actor's mirror ----------------------------------------------------------

export async function markRunning(d1: D1Database, id: string, startedAt: string): Promise<void> {
  await db(d1).update(executions).set({ status: 'running', startedAt, updatedAt: now() }).where(eq(executions.id, id));
}

/** The run's row as the actor holds it now. */
export function mirrorRunStatement(d1: D1Database, id: string, run: Partial<NewExecution>): Statement {
  return db(d1)
    .update(executions)
    .set({ ...run, updatedAt: now() })
    .where(eq(executions.id, id));
}

/**
 * Node rows per statement: D1 binds at most 100 parameters to a statement and a node row has 18
 * columns, so several rows share one multi-row INSERT (a 100-node run: 20 statements, not 100).
 */
const NODE_FIELDS = Object.keys(getTableColumns(executionNodes));
const NODE_ROWS_PER_STATEMENT = Math.floor(100 / NODE_FIELDS.length);
// Type and label stay as first written; the rest is replaced.
const NODE_UPSERT = `ON CONFLICT ("execution_id", "node_id") DO UPDATE SET ${Object.entries(getTableColumns(executionNodes))
  .filter(([f]) => !['executionId', 'nodeId', 'nodeType', 'label'].includes(f))
  .map(([, col]) => `"${col.name}" = excluded."${col.name}"`)
  .join(', ')}`;

/** Node rows as they are now, several a statement: inserted, or replacing the rows already there (their type and label stay as first written). */
export function upsertNodesStatements(d1: D1Database, nodes: NewExecutionNode[]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  for (let i = 0; i < nodes.length; i += NODE_ROWS_PER_STATEMENT) {
    const part = nodes.slice(i, i + NODE_ROWS_PER_STATEMENT);
    out.push(d1.prepare(insertRowsSql(executionNodes, NODE_FIELDS, part.length, NODE_UPSERT)).bind(...rowValues(executionNodes, NODE_FIELDS, part)));
  }
  return out;
}

// --- statistics (execution-logs' summaries) -------------------------------------------------

const errorCode = sql<string | null>`json_extract(${executionNodes.error}, '$.code')`;
const errorMessage = sql<string | null>`json_extract(${executionNodes.error}, '$.message')`;

/** The error summary's four reads over the runs matching `where` (for one batch). */
export function errorSummaryQueries(d1: D1Database, where: SQL | undefined) {
  const failed = and(where, eq(executionNodes.status, 'failed'));
  const joined = () => db(d1);
  return [
    db(d1).select({ n: count() }).from(executions).where(and(where, eq(executions.status, 'failed'))),
    joined()
      .select({ code: errorCode.as('code'), count: sql<number>`count(*)`.as('count'), last_seen: sql<string | null>`max(${executionNodes.finishedAt})`, sample_message: sql<string | null>`max(${errorMessage})` })
      .from(executionNodes)
      .innerJoin(executions, eq(executions.id, executionNodes.executionId))
      .where(failed)
      .groupBy(sql`code`)
      .orderBy(sql`count DESC`)
      .limit(50),
    joined()
      .select({ node_type: executionNodes.nodeType, count: sql<number>`count(*)`.as('count') })
      .from(executionNodes)
      .innerJoin(executions, eq(executions.id, executionNodes.executionId))
      .where(failed)
      .groupBy(executionNodes.nodeType)
      .orderBy(sql`count DESC`),
    joined()
      .select({
        execution_id: executionNodes.executionId,
        node_id: executionNodes.nodeId,
        node_type: executionNodes.nodeType,
        code: errorCode,
        message: errorMessage,
        finished_at: executionNodes.finishedAt,
      })
      .from(executionNodes)
      .innerJoin(executions, eq(executions.id, executionNodes.executionId))
      .where(failed)
      .orderBy(desc(executionNodes.finishedAt))
      .limit(20),
  ] as const;
}

/** The statistics' three reads over the runs matching `where` (for one batch). */
export function statsQueries(d1: D1Database, where: SQL | undefined) {
  return [
    db(d1).select({ status: executions.status, n: count() }).from(executions).where(where).groupBy(executions.status),
    db(d1)
      .select({ avg_ms: sql<number | null>`avg(${executions.durationMs})`, tokens: sql<number>`coalesce(sum(${executions.totalTokens}), 0)` })
      .from(executions)
      .where(and(where, isNotNull(executions.finishedAt))),
    db(d1)
      .select({
        node_type: executionNodes.nodeType,
        runs: sql<number>`count(*)`.as('runs'),
        failures: sql<number>`sum(${executionNodes.status} = 'failed')`,
        avg_ms: sql<number | null>`avg(${executionNodes.durationMs})`,
      })
      .from(executionNodes)
      .innerJoin(executions, eq(executions.id, executionNodes.executionId))
      .where(and(where, sql`${executionNodes.status} != 'skipped'`))
      .groupBy(executionNodes.nodeType)
      .orderBy(sql`runs DESC`),
  ] as const;
}



// ── for monitoring ──

/**
 * Workflow runs (`mode IS NULL`) or agent runs (`POST /agents/{id}/execute`, with a mode) in a
 * range, optionally of one owner, as one part of the monitoring runs union:
 * (kind, owner_id, agent_id, status normalised, duration_ms, created_at).
 */
export function executionRunsPart(kind: 'workflow' | 'agent', range: { from: string; to: string }, ownerId?: string): SQL {
  return sql`SELECT ${sql.raw(`'${kind}'`)} AS kind, owner_id, agent_id, ${sql.raw(normalisedStatus('status'))} AS status, duration_ms, created_at FROM ${executions}
    WHERE created_at >= ${range.from} AND created_at < ${range.to} AND mode ${sql.raw(kind === 'workflow' ? 'IS NULL' : 'IS NOT NULL')}${ownerId ? sql` AND owner_id = ${ownerId}` : sql``}`;
}

/** Per node type: runs, failures, average and percentile durations, tokens, of runs created in the range. */
export function nodeTypeStats(d1: D1Database, range: { from: string; to: string }, ownerId?: string) {
  return sqlQuery(d1).all<{ node_type: string; runs: number; failed: number; avg_ms: number | null; tokens: number; p50: number | null; p95: number | null }>(
    percentileSql({
      from: sql`(SELECT n.node_type, n.status, n.duration_ms, n.total_tokens FROM ${executionNodes} n JOIN ${executions} e ON e.id = n.execution_id
        WHERE e.created_at >= ${range.from} AND e.created_at < ${range.to}${ownerId ? sql` AND e.owner_id = ${ownerId}` : sql``})`,
      groups: { node_type: 'node_type' },
      value: 'duration_ms',
      select: "count(*) AS runs, coalesce(sum(status = 'failed'), 0) AS failed, avg(duration_ms) AS avg_ms, coalesce(sum(total_tokens), 0) AS tokens",
      orderBy: 'runs DESC, node_type',
    }),
  );
}

// ── for agent-schedules ──

/** Executions' ids and statuses as a subquery to join (a schedule shows its last run's status). */
export function executionStatuses(d1: D1Database) {
  const e = executions;
  return db(d1).select({ id: e.id, status: e.status }).from(e).as('e');
}
