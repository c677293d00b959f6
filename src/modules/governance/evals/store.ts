import { and, asc, count, desc, eq, gt, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { db, likeContains, now, runBatch, type Statement } from '../../../db/client';
import { evalDatasetRows, evalDatasets, evalDatasetVersions, evalGates, evalResults, evalRuns, evalWorkflowGates } from '../../../db/schema/evals';

export type DatasetRow = typeof evalDatasets.$inferSelect;
export type DatasetRowRecord = typeof evalDatasetRows.$inferSelect;
export type NewDatasetRow = Pick<DatasetRowRecord, 'id' | 'position' | 'input' | 'expected' | 'metadata'>;
export type RunRow = typeof evalRuns.$inferSelect;
export type NewRun = typeof evalRuns.$inferInsert;
export type ResultRow = typeof evalResults.$inferSelect;
export type NewResult = typeof evalResults.$inferInsert;
export type GateRow = typeof evalGates.$inferSelect;
export type WorkflowGateRow = typeof evalWorkflowGates.$inferSelect;

// D1 binds at most 100 parameters a statement: rows are inserted a few at a time.
const ROWS_PER_INSERT = 10;

// ── datasets ──

/** Rows of version `version`: added at or before it and not removed by then. */
const inVersion = (datasetId: string, version: number): SQL =>
  and(
    eq(evalDatasetRows.datasetId, datasetId),
    lte(evalDatasetRows.addedVersion, version),
    or(isNull(evalDatasetRows.removedVersion), gt(evalDatasetRows.removedVersion, version)),
  )!;

function insertRows(d1: D1Database, datasetId: string, version: number, rows: NewDatasetRow[]): Statement[] {
  const statements: Statement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    statements.push(
      db(d1)
        .insert(evalDatasetRows)
        .values(rows.slice(i, i + ROWS_PER_INSERT).map((r) => ({ ...r, datasetId, addedVersion: version }))),
    );
  }
  return statements;
}

/** Creates a dataset at version 1 with its rows, in one batch. */
export async function createDataset(d1: D1Database, dataset: Pick<DatasetRow, 'id' | 'ownerId' | 'name' | 'description'>, rows: NewDatasetRow[]): Promise<void> {
  await runBatch(d1, [
    db(d1).insert(evalDatasets).values({ ...dataset, version: 1, rowCount: rows.length }),
    db(d1).insert(evalDatasetVersions).values({ datasetId: dataset.id, version: 1, rowCount: rows.length, change: 'created' }),
    ...insertRows(d1, dataset.id, 1, rows),
  ]);
}

/**
 * Makes version `from + 1` of a dataset: the version row first (its unique key fails the whole
 * batch when another change took that version), then the added and removed rows, then the dataset.
 */
export async function writeVersion(
  d1: D1Database,
  datasetId: string,
  from: number,
  change: { add: NewDatasetRow[]; remove: string[]; rowCount: number; kind: 'added' | 'removed' },
): Promise<void> {
  const version = from + 1;
  await runBatch(d1, [
    db(d1).insert(evalDatasetVersions).values({ datasetId, version, rowCount: change.rowCount, change: change.kind }),
    ...insertRows(d1, datasetId, version, change.add),
    ...(change.remove.length
      ? [
          db(d1)
            .update(evalDatasetRows)
            .set({ removedVersion: version })
            .where(and(eq(evalDatasetRows.datasetId, datasetId), inArray(evalDatasetRows.id, change.remove), isNull(evalDatasetRows.removedVersion))),
        ]
      : []),
    db(d1)
      .update(evalDatasets)
      .set({ version, rowCount: change.rowCount, updatedAt: now() })
      .where(and(eq(evalDatasets.id, datasetId), eq(evalDatasets.version, from))),
  ]);
}

export async function findDataset(d1: D1Database, id: string): Promise<DatasetRow | null> {
  return (await db(d1).select().from(evalDatasets).where(eq(evalDatasets.id, id)).get()) ?? null;
}

export async function listDatasets(d1: D1Database, ownerId: string | null, search: string | undefined, limit: number, offset: number) {
  const where = and(ownerId ? eq(evalDatasets.ownerId, ownerId) : undefined, search ? likeContains(evalDatasets.name, search) : undefined);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(evalDatasets).where(where).orderBy(desc(evalDatasets.createdAt), desc(evalDatasets.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(evalDatasets).where(where),
  ]);
  return { rows, total };
}

export async function datasetVersions(d1: D1Database, datasetId: string) {
  return db(d1).select().from(evalDatasetVersions).where(eq(evalDatasetVersions.datasetId, datasetId)).orderBy(asc(evalDatasetVersions.version));
}

/** A page of a version's rows, in position order, with their number. */
export async function listRows(d1: D1Database, datasetId: string, version: number, limit: number, offset: number) {
  const where = inVersion(datasetId, version);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(evalDatasetRows).where(where).orderBy(asc(evalDatasetRows.position), asc(evalDatasetRows.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(evalDatasetRows).where(where),
  ]);
  return { rows, total };
}

/** The ids of a version's rows, in position order (what a run is made of). */
export async function versionRowIds(d1: D1Database, datasetId: string, version: number): Promise<string[]> {
  const rows = await db(d1).select({ id: evalDatasetRows.id }).from(evalDatasetRows).where(inVersion(datasetId, version)).orderBy(asc(evalDatasetRows.position), asc(evalDatasetRows.id));
  return rows.map((r) => r.id);
}

/** The highest position used so far (new rows go after it). */
export async function lastPosition(d1: D1Database, datasetId: string): Promise<number> {
  const row = await db(d1).select({ p: sql<number | null>`max(${evalDatasetRows.position})` }).from(evalDatasetRows).where(eq(evalDatasetRows.datasetId, datasetId)).get();
  return row?.p ?? 0;
}

/** Which of `ids` are rows of the current version. */
export async function currentRowIds(d1: D1Database, datasetId: string, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await db(d1)
    .select({ id: evalDatasetRows.id })
    .from(evalDatasetRows)
    .where(and(eq(evalDatasetRows.datasetId, datasetId), inArray(evalDatasetRows.id, ids), isNull(evalDatasetRows.removedVersion)));
  return rows.map((r) => r.id);
}

/** Deletes a dataset with its versions, rows, runs and their results, and the gates on it, atomically. */
export async function deleteDataset(d1: D1Database, id: string): Promise<void> {
  const runIds = db(d1).select({ id: evalRuns.id }).from(evalRuns).where(eq(evalRuns.datasetId, id));
  await runBatch(d1, [
    db(d1).delete(evalResults).where(inArray(evalResults.runId, runIds)),
    db(d1).delete(evalRuns).where(eq(evalRuns.datasetId, id)),
    db(d1).delete(evalDatasetRows).where(eq(evalDatasetRows.datasetId, id)),
    db(d1).delete(evalDatasetVersions).where(eq(evalDatasetVersions.datasetId, id)),
    db(d1).delete(evalDatasets).where(eq(evalDatasets.id, id)),
    db(d1).delete(evalGates).where(eq(evalGates.datasetId, id)),
    db(d1).delete(evalWorkflowGates).where(eq(evalWorkflowGates.datasetId, id)),
  ]);
}

// ── runs ──

export async function insertRun(d1: D1Database, run: NewRun): Promise<RunRow> {
  const [row] = await db(d1).insert(evalRuns).values(run).returning();
  return row;
}

export async function findRun(d1: D1Database, id: string): Promise<RunRow | null> {
  return (await db(d1).select().from(evalRuns).where(eq(evalRuns.id, id)).get()) ?? null;
}

export async function listRuns(d1: D1Database, filter: { ownerId: string | null; datasetId?: string; status?: RunRow['status'] }, limit: number, offset: number) {
  const where = and(
    filter.ownerId ? eq(evalRuns.ownerId, filter.ownerId) : undefined,
    filter.datasetId ? eq(evalRuns.datasetId, filter.datasetId) : undefined,
    filter.status ? eq(evalRuns.status, filter.status) : undefined,
  );
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(evalRuns).where(where).orderBy(desc(evalRuns.createdAt), desc(evalRuns.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(evalRuns).where(where),
  ]);
  return { rows, total };
}

/** queued → running (once), with its start time. */
export const startRun = (d1: D1Database, id: string) =>
  db(d1)
    .update(evalRuns)
    .set({ status: 'running', startedAt: now(), updatedAt: now() })
    .where(and(eq(evalRuns.id, id), eq(evalRuns.status, 'queued')));

/** Cancels a run that has not finished; true when it did. */
export async function cancelRun(d1: D1Database, id: string): Promise<boolean> {
  const res = await db(d1)
    .update(evalRuns)
    .set({ status: 'cancelled', finishedAt: now(), updatedAt: now() })
    .where(and(eq(evalRuns.id, id), inArray(evalRuns.status, ['queued', 'running'])));
  return res.meta.changes > 0;
}

/** Fails a run that has not finished (its messages were lost after every retry). */
export const failRun = (d1: D1Database, id: string, error: string) =>
  db(d1)
    .update(evalRuns)
    .set({ status: 'failed', error, finishedAt: now(), updatedAt: now() })
    .where(and(eq(evalRuns.id, id), inArray(evalRuns.status, ['queued', 'running'])));

/** The rows of a version among `rowIds` that have no result in the run yet. */
export async function unscoredRows(d1: D1Database, runId: string, rowIds: string[]): Promise<DatasetRowRecord[]> {
  if (!rowIds.length) return [];
  return db(d1)
    .select()
    .from(evalDatasetRows)
    .where(
      and(
        inArray(evalDatasetRows.id, rowIds),
        sql`NOT EXISTS (SELECT 1 FROM ${evalResults} WHERE ${evalResults.runId} = ${runId} AND ${evalResults.rowId} = ${evalDatasetRows.id})`,
      ),
    )
    .orderBy(asc(evalDatasetRows.position));
}

/**
 * Records a row's result, once: the insert does nothing when the row already has one (a message
 * delivered again), and the run's counters are recounted from its results in the same batch, so
 * they stay exact whatever the order or repetition of deliveries.
 */
export async function recordResult(d1: D1Database, result: NewResult): Promise<{ inserted: boolean; run: RunRow | null }> {
  const runId = result.runId;
  const [insert, , runs] = (await runBatch(d1, [
    db(d1).insert(evalResults).values(result).onConflictDoNothing({ target: [evalResults.runId, evalResults.rowId] }),
    db(d1)
      .update(evalRuns)
      .set({
        done: sql`(SELECT count(*) FROM ${evalResults} WHERE ${evalResults.runId} = ${runId})`,
        passed: sql`(SELECT count(*) FROM ${evalResults} WHERE ${evalResults.runId} = ${runId} AND ${evalResults.passed} = 1)`,
        errors: sql`(SELECT count(*) FROM ${evalResults} WHERE ${evalResults.runId} = ${runId} AND ${evalResults.error} IS NOT NULL)`,
        updatedAt: now(),
      })
      .where(eq(evalRuns.id, runId)),
    db(d1).select().from(evalRuns).where(eq(evalRuns.id, runId)),
  ])) as [D1Result, D1Result, RunRow[]];
  return { inserted: (insert.meta?.changes ?? 0) > 0, run: runs[0] ?? null };
}

/** Completes a running run whose every row has a result, with its summary; true for the one caller that did. */
export async function completeRun(d1: D1Database, id: string, summary: string): Promise<boolean> {
  const res = await db(d1)
    .update(evalRuns)
    .set({ status: 'completed', summary, finishedAt: now(), updatedAt: now() })
    .where(and(eq(evalRuns.id, id), eq(evalRuns.status, 'running'), sql`${evalRuns.done} >= ${evalRuns.total}`));
  return res.meta.changes > 0;
}

/** Every result of a run, in row order. */
export function runResults(d1: D1Database, runId: string): Promise<ResultRow[]> {
  return db(d1).select().from(evalResults).where(eq(evalResults.runId, runId)).orderBy(asc(evalResults.position), asc(evalResults.rowId));
}

/** A page of a run's results (optionally only passing or failing rows), with their number. */
export async function listResults(d1: D1Database, runId: string, passed: boolean | undefined, limit: number, offset: number) {
  const where = and(eq(evalResults.runId, runId), passed === undefined ? undefined : eq(evalResults.passed, passed ? 1 : 0));
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(evalResults).where(where).orderBy(asc(evalResults.position), asc(evalResults.rowId)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(evalResults).where(where),
  ]);
  return { rows, total };
}

// ── deploy gates ──

export async function findGate(d1: D1Database, agentId: string): Promise<GateRow | null> {
  return (await db(d1).select().from(evalGates).where(eq(evalGates.agentId, agentId)).get()) ?? null;
}

/** Sets an agent's gate (one per agent: a second replaces the first). */
export async function putGate(d1: D1Database, gate: Pick<GateRow, 'agentId' | 'ownerId' | 'datasetId' | 'scorer' | 'minScore'>): Promise<GateRow> {
  const [row] = await db(d1)
    .insert(evalGates)
    .values(gate)
    .onConflictDoUpdate({ target: evalGates.agentId, set: { ownerId: gate.ownerId, datasetId: gate.datasetId, scorer: gate.scorer, minScore: gate.minScore, updatedAt: now() } })
    .returning();
  return row;
}

/** Removes an agent's gate; true when there was one. */
export async function deleteGate(d1: D1Database, agentId: string): Promise<boolean> {
  const res = await db(d1).delete(evalGates).where(eq(evalGates.agentId, agentId));
  return res.meta.changes > 0;
}

/** The statement that removes an agent's gate, for the batch that deletes the agent. */
export const deleteGateStatement = (d1: D1Database, agentId: string): Statement => db(d1).delete(evalGates).where(eq(evalGates.agentId, agentId));

export async function findWorkflowGate(d1: D1Database, workflowId: string): Promise<WorkflowGateRow | null> {
  return (await db(d1).select().from(evalWorkflowGates).where(eq(evalWorkflowGates.workflowId, workflowId)).get()) ?? null;
}

/** Sets a workflow's gate (one per workflow: a second replaces the first). */
export async function putWorkflowGate(d1: D1Database, gate: Pick<WorkflowGateRow, 'workflowId' | 'ownerId' | 'datasetId' | 'scorer' | 'minScore'>): Promise<WorkflowGateRow> {
  const [row] = await db(d1)
    .insert(evalWorkflowGates)
    .values(gate)
    .onConflictDoUpdate({ target: evalWorkflowGates.workflowId, set: { ownerId: gate.ownerId, datasetId: gate.datasetId, scorer: gate.scorer, minScore: gate.minScore, updatedAt: now() } })
    .returning();
  return row;
}

/** Removes a workflow's gate; true when there was one. */
export async function deleteWorkflowGate(d1: D1Database, workflowId: string): Promise<boolean> {
  const res = await db(d1).delete(evalWorkflowGates).where(eq(evalWorkflowGates.workflowId, workflowId));
  return res.meta.changes > 0;
}

/** The statement that removes a workflow's gate, for the batch that deletes the workflow. */
export const deleteWorkflowGateStatement = (d1: D1Database, workflowId: string): Statement =>
  db(d1).delete(evalWorkflowGates).where(eq(evalWorkflowGates.workflowId, workflowId));
