import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { ApiError, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { parseCsv } from '../../../engine/data-sources/tabular';
import { scorerName, type ScorerSpec } from '../../../engine/evals/scorers';
import { bootstrapMeanInterval, mean } from '../../../engine/evals/stats';
import { authorize } from '../../identity/permissions/authorize';
import { findAgent, findVersionSnapshot } from '../../agents/agents/store';
import { findRatedMessage, messagesBefore } from '../../agents/agent-chat/store';
import { negativeSampleList } from '../feedback/service';
import { getUploadRow, uploadBytes } from '../../knowledge/uploads/service';
import type { AddRows, CreateDataset, CreateRun, DatasetRowInputT, Run, RunSummary } from './schemas';
import * as store from './store';
import type { DatasetRow, NewDatasetRow, ResultRow, RunRow } from './store';
import { DatasetRowInput } from './schemas';

/** Rows of a run per queue message: small enough for one consumer invocation, big enough to batch. */
export const ROWS_PER_MESSAGE = 10;
const MAX_ROWS_PER_CHANGE = 5000;

// ── datasets ──

const parse = (text: string | null) => (text === null ? null : JSON.parse(text));

function toDataset(r: DatasetRow, versions?: Awaited<ReturnType<typeof store.datasetVersions>>) {
  return {
    id: r.id,
    owner_id: r.ownerId,
    name: r.name,
    description: r.description,
    version: r.version,
    row_count: r.rowCount,
    ...(versions ? { versions: versions.map((v) => ({ version: v.version, row_count: v.rowCount, change: v.change, created_at: v.createdAt })) } : {}),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** A dataset of the caller's (any, for an admin); anyone else's answers 404 like a missing one. */
async function ownDataset(env: Env, user: AuthUser, id: string): Promise<DatasetRow> {
  const row = await store.findDataset(env.DB, id);
  if (!row || (row.ownerId !== user.id && !isAdmin(user))) throw notFound('Dataset');
  return row;
}

const uploadError = (line: string, message: string) => new ApiError(422, 'VALIDATION_ERROR', `upload_id: ${line}: ${message}`);

/** Rows of an uploaded file: JSON Lines (or a JSON array) of row objects, or CSV with input, expected and metadata columns. */
async function uploadRows(env: Env, user: AuthUser, uploadId: string): Promise<DatasetRowInputT[]> {
  const upload = await getUploadRow(env, user, uploadId);
  const bytes = await uploadBytes(env, upload);
  if (!bytes) throw notFound('Upload content');
  const text = new TextDecoder().decode(bytes);
  const check = (value: unknown, where: string): DatasetRowInputT => {
    const parsed = DatasetRowInput.safeParse(value);
    if (!parsed.success) throw uploadError(where, parsed.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; '));
    return parsed.data;
  };
  if (upload.contentType === 'text/csv' || upload.filename.toLowerCase().endsWith('.csv')) {
    const { columns, rows } = parseCsv(text);
    if (!columns.includes('input')) throw uploadError('header', 'a CSV needs an input column');
    const json = (v: string | undefined) => {
      if (v === undefined || v === '') return undefined;
      try {
        return JSON.parse(v);
      } catch {
        return v;
      }
    };
    return rows.map((r, i) =>
      check({ input: r.input, ...(r.expected !== undefined && r.expected !== '' ? { expected: json(r.expected) } : {}), metadata: json(r.metadata) ?? {} }, `row ${i + 1}`),
    );
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let all: unknown;
    try {
      all = JSON.parse(trimmed);
    } catch {
      throw uploadError('file', 'not valid JSON');
    }
    return (all as unknown[]).map((v, i) => check(v, `item ${i + 1}`));
  }
  return trimmed
    .split(/\r?\n/)
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter((l) => l.line)
    .map(({ line, n }) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw uploadError(`line ${n}`, 'not valid JSON');
      }
      return check(value, `line ${n}`);
    });
}

/** Negatively rated answers: the question is the input, the rejected answer and the feedback are kept in metadata. */
async function feedbackRows(env: Env, user: AuthUser, source: NonNullable<AddRows['from_feedback']>): Promise<DatasetRowInputT[]> {
  const samples = await negativeSampleList(env, user, { agent_id: source.agent_id, tag: source.tag, from: source.from, to: source.to, days: source.days }, source.limit);
  return samples
    .filter((s) => s.input)
    .map((s) => ({
      input: s.input!,
      metadata: { source: 'feedback', feedback_id: s.id, agent_id: s.agent_id, target_type: s.target_type, target_id: s.target_id, rejected_output: s.output, comment: s.comment, tags: s.tags },
    }));
}

/** Chat messages of the caller's: a user message as is; an assistant message, the question before it. */
async function messageRows(env: Env, user: AuthUser, ids: string[]): Promise<DatasetRowInputT[]> {
  const rows: DatasetRowInputT[] = [];
  for (const id of ids) {
    const m = await findRatedMessage(env.DB, id);
    if (!m || (m.userId !== user.id && !isAdmin(user))) throw notFound(`Message ${id}`);
    if (m.role === 'user') {
      if (!m.content) throw validationError(`body.message_ids: message ${id} has no text`);
      rows.push({ input: m.content, metadata: { source: 'message', message_id: id, session_id: m.sessionId, agent_id: m.agentId } });
    } else if (m.role === 'assistant') {
      const before = await messagesBefore(env.DB, m.sessionId, m.seq, 6);
      const question = [...before].reverse().find((r) => r.role === 'user')?.content;
      if (!question) throw validationError(`body.message_ids: no question before message ${id}`);
      rows.push({ input: question, metadata: { source: 'message', message_id: id, session_id: m.sessionId, agent_id: m.agentId, answer: m.content } });
    } else {
      throw validationError(`body.message_ids: message ${id} is a ${m.role} message; choose user or assistant messages`);
    }
  }
  return rows;
}

/** The rows every source of a request gives, in the order rows, upload, feedback, messages. */
async function collectRows(env: Env, user: AuthUser, src: AddRows, after: number): Promise<NewDatasetRow[]> {
  const all = [
    ...(src.rows ?? []),
    ...(src.upload_id ? await uploadRows(env, user, src.upload_id) : []),
    ...(src.from_feedback ? await feedbackRows(env, user, src.from_feedback) : []),
    ...(src.message_ids?.length ? await messageRows(env, user, src.message_ids) : []),
  ];
  if (all.length > MAX_ROWS_PER_CHANGE) throw validationError(`body: at most ${MAX_ROWS_PER_CHANGE} rows per change (got ${all.length})`);
  return all.map((r, i) => ({
    id: crypto.randomUUID(),
    position: after + i + 1,
    input: JSON.stringify(r.input),
    expected: r.expected === undefined ? null : JSON.stringify(r.expected),
    metadata: JSON.stringify(r.metadata ?? {}),
  }));
}

export async function createDataset(env: Env, user: AuthUser, input: CreateDataset) {
  const rows = await collectRows(env, user, input, 0);
  const id = crypto.randomUUID();
  await store.createDataset(env.DB, { id, ownerId: user.id, name: input.name, description: input.description }, rows);
  return getDataset(env, user, id);
}

export async function getDataset(env: Env, user: AuthUser, id: string) {
  const row = await ownDataset(env, user, id);
  return toDataset(row, await store.datasetVersions(env.DB, id));
}

export async function listDatasets(env: Env, user: AuthUser, q: Pagination & { search?: string }) {
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listDatasets(env.DB, user.id, q.search, limit, offset);
  return paginated(rows.map((r) => toDataset(r)), total, q);
}

export async function deleteDataset(env: Env, user: AuthUser, id: string) {
  await ownDataset(env, user, id);
  await store.deleteDataset(env.DB, id);
}

export async function listRows(env: Env, user: AuthUser, id: string, q: Pagination & { version?: number }) {
  const ds = await ownDataset(env, user, id);
  const version = q.version ?? ds.version;
  if (version > ds.version) throw validationError(`query.version: the dataset is at version ${ds.version}`);
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listRows(env.DB, id, version, limit, offset);
  return paginated(
    rows.map((r) => ({ id: r.id, position: r.position, input: parse(r.input), expected: parse(r.expected), metadata: parse(r.metadata), added_version: r.addedVersion, removed_version: r.removedVersion })),
    total,
    q,
  );
}

/**
 * A change of rows makes a new version. Two concurrent changes both aim at version + 1; the
 * second one's batch fails on the version's unique key, and it tries again from the new version.
 */
async function changeRows(env: Env, user: AuthUser, id: string, make: (ds: DatasetRow) => Promise<{ add: NewDatasetRow[]; remove: string[]; kind: 'added' | 'removed' }>) {
  for (let attempt = 1; ; attempt++) {
    const ds = await ownDataset(env, user, id);
    const change = await make(ds);
    try {
      await store.writeVersion(env.DB, id, ds.version, { ...change, rowCount: ds.rowCount + change.add.length - change.remove.length });
      return getDataset(env, user, id);
    } catch (e) {
      if (attempt >= 3 || !String(e).includes('UNIQUE')) throw e;
    }
  }
}

export function addRows(env: Env, user: AuthUser, id: string, input: AddRows) {
  return changeRows(env, user, id, async (ds) => {
    const add = await collectRows(env, user, input, await store.lastPosition(env.DB, ds.id));
    if (!add.length) throw validationError('body: the sources gave no rows');
    return { add, remove: [], kind: 'added' };
  });
}

export function removeRows(env: Env, user: AuthUser, id: string, rowIds: string[]) {
  return changeRows(env, user, id, async (ds) => {
    const unique = [...new Set(rowIds)];
    const current = await store.currentRowIds(env.DB, ds.id, unique);
    const missing = unique.filter((r) => !current.includes(r));
    if (missing.length) throw validationError(`body.row_ids: not rows of the current version: ${missing.slice(0, 5).join(', ')}`);
    return { add: [], remove: current, kind: 'removed' };
  });
}

// ── runs ──

export function toRun(r: RunRow): Run {
  return {
    id: r.id,
    owner_id: r.ownerId,
    dataset_id: r.datasetId,
    dataset_version: r.datasetVersion,
    name: r.name,
    target: JSON.parse(r.target),
    scorers: JSON.parse(r.scorers),
    concurrency: r.concurrency,
    status: r.status,
    total: r.total,
    done: r.done,
    passed: r.passed,
    errors: r.errors,
    summary: parse(r.summary),
    error: r.error,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    created_at: r.createdAt,
  };
}

async function ownRun(env: Env, user: AuthUser, id: string): Promise<RunRow> {
  const row = await store.findRun(env.DB, id);
  if (!row || (row.ownerId !== user.id && !isAdmin(user))) throw notFound('Eval run');
  return row;
}

/** The target as the run keeps it: an agent's version is pinned (the current one by default). */
async function pinTarget(env: Env, user: AuthUser, target: CreateRun['target']): Promise<CreateRun['target']> {
  if (target.type === 'agent') {
    await authorize(env, user, 'agent', target.agent_id, 'execute');
    const agent = (await findAgent(env.DB, target.agent_id))!;
    const version = target.version ?? agent.version;
    if (version !== agent.version && !(await findVersionSnapshot(env.DB, agent.id, version))) {
      throw validationError(`body.target.version: the agent has no version ${version} (current: ${agent.version})`);
    }
    return { ...target, version };
  }
  if (target.type === 'workflow') await authorize(env, user, 'workflow', target.workflow_id, 'execute');
  return target;
}

/**
 * Checks a run request and records the run, queued, without sending its rows anywhere: createRun
 * queues them, the deploy gate scores them inline. Answers the run and its row ids in order.
 */
export async function openRun(env: Env, user: AuthUser, input: CreateRun): Promise<{ run: RunRow; rowIds: string[] }> {
  const ds = await ownDataset(env, user, input.dataset_id);
  const version = input.dataset_version ?? ds.version;
  if (version > ds.version) throw validationError(`body.dataset_version: the dataset is at version ${ds.version}`);
  const names = input.scorers.map((s) => scorerName(s as ScorerSpec));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw validationError(`body.scorers: two scorers are named "${dup}"; give them distinct names`);
  for (const s of input.scorers) {
    if (s.type !== 'regex') continue;
    try {
      new RegExp(s.pattern, s.flags);
    } catch (e) {
      throw validationError(`body.scorers: invalid regex ${s.pattern}: ${(e as Error).message}`);
    }
  }
  const target = await pinTarget(env, user, input.target);
  const rowIds = await store.versionRowIds(env.DB, ds.id, version);
  if (!rowIds.length) throw validationError(`body.dataset_id: version ${version} of the dataset has no rows`);
  const run = await store.insertRun(env.DB, {
    id: crypto.randomUUID(),
    ownerId: user.id,
    datasetId: ds.id,
    datasetVersion: version,
    name: input.name,
    target: JSON.stringify(target),
    scorers: JSON.stringify(input.scorers),
    price: input.price ? JSON.stringify(input.price) : null,
    concurrency: input.concurrency,
    total: rowIds.length,
  });
  return { run, rowIds };
}

/** The messages of a run's rows, ROWS_PER_MESSAGE rows each, in row order. */
export function runMessages(runId: string, rowIds: string[]): Array<{ run_id: string; row_ids: string[] }> {
  const messages: Array<{ run_id: string; row_ids: string[] }> = [];
  for (let i = 0; i < rowIds.length; i += ROWS_PER_MESSAGE) messages.push({ run_id: runId, row_ids: rowIds.slice(i, i + ROWS_PER_MESSAGE) });
  return messages;
}

/** Starts an eval run: the rows of the dataset version go on the queue in messages of ROWS_PER_MESSAGE. */
export async function createRun(env: Env, user: AuthUser, input: CreateRun): Promise<Run> {
  const { run, rowIds } = await openRun(env, user, input);
  const messages = runMessages(run.id, rowIds).map((body) => ({ body }));
  for (let i = 0; i < messages.length; i += 100) await env.EVALS_QUEUE.sendBatch(messages.slice(i, i + 100));
  return toRun(run);
}

export async function getRun(env: Env, user: AuthUser, id: string) {
  return toRun(await ownRun(env, user, id));
}

export async function listRuns(env: Env, user: AuthUser, q: Pagination & { dataset_id?: string; status?: RunRow['status'] }) {
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listRuns(env.DB, { ownerId: user.id, datasetId: q.dataset_id, status: q.status }, limit, offset);
  return paginated(rows.map(toRun), total, q);
}

/** Cancels a queued or running run: rows not started yet are not run (rows in flight finish). 409 once it has ended. */
export async function cancelRun(env: Env, user: AuthUser, id: string) {
  const run = await ownRun(env, user, id);
  if (!(await store.cancelRun(env.DB, run.id))) throw new ApiError(409, 'CONFLICT', `The run has already ended (${run.status})`);
  return toRun((await store.findRun(env.DB, id))!);
}

export function toResult(r: ResultRow) {
  return {
    row_id: r.rowId,
    position: r.position,
    output: r.output,
    tool_calls: JSON.parse(r.toolCalls),
    scores: JSON.parse(r.scores),
    passed: r.passed === 1,
    latency_ms: r.latencyMs,
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    cost: r.cost,
    error: r.error,
  };
}

export async function listResults(env: Env, user: AuthUser, id: string, q: Pagination & { passed?: 'true' | 'false' }) {
  const run = await ownRun(env, user, id);
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listResults(env.DB, run.id, q.passed === undefined ? undefined : q.passed === 'true', limit, offset);
  return paginated(rows.map(toResult), total, q);
}

/** A run's summary from its results: pass rate, each scorer's mean and pass rate, latency, tokens, cost. */
export function summarize(scorers: ScorerSpec[], results: ResultRow[]): RunSummary {
  const parsed = results.map((r) => ({ row: r, scores: JSON.parse(r.scores) as Array<{ scorer: string; score: number; passed: boolean }> }));
  return {
    pass_rate: results.length ? results.filter((r) => r.passed === 1).length / results.length : 0,
    scorers: scorers.map((s) => {
      const name = scorerName(s);
      const of = parsed.map((p) => p.scores.find((x) => x.scorer === name)).filter((x) => x !== undefined);
      return { scorer: name, mean: mean(of.map((x) => x.score)), pass_rate: of.length ? of.filter((x) => x.passed).length / of.length : 0 };
    }),
    latency_ms_mean: mean(results.map((r) => r.latencyMs)),
    tokens: results.reduce((n, r) => n + r.promptTokens + r.completionTokens, 0),
    cost: results.reduce((n, r) => n + r.cost, 0),
  };
}

/**
 * Compares two runs over the same dataset, row by row (rows scored in both): each scorer's mean
 * and the pass rate with a seeded bootstrap interval of the mean paired difference, per-row
 * deltas, regressions (passed in the base, failing in the candidate) and improvements.
 */
export async function compareRuns(env: Env, user: AuthUser, q: { base_run_id: string; candidate_run_id: string; seed: number }) {
  const [base, candidate] = await Promise.all([ownRun(env, user, q.base_run_id), ownRun(env, user, q.candidate_run_id)]);
  if (base.datasetId !== candidate.datasetId) throw validationError('query.candidate_run_id: the runs are over different datasets');
  const [baseResults, candResults] = await Promise.all([store.runResults(env.DB, base.id), store.runResults(env.DB, candidate.id)]);
  const byRow = new Map(baseResults.map((r) => [r.rowId, r]));
  const pairs = candResults.filter((c) => byRow.has(c.rowId)).map((c) => ({ b: byRow.get(c.rowId)!, c }));
  const scoresOf = (r: ResultRow) => new Map((JSON.parse(r.scores) as Array<{ scorer: string; score: number; passed: boolean }>).map((s) => [s.scorer, s]));
  const candNames = new Set((JSON.parse(candidate.scorers) as ScorerSpec[]).map(scorerName));
  const names = (JSON.parse(base.scorers) as ScorerSpec[]).map(scorerName).filter((n) => candNames.has(n));
  const interval = (xs: number[]) => bootstrapMeanInterval(xs, { seed: q.seed });

  const rows = pairs.map(({ b, c }) => {
    const bs = scoresOf(b);
    const cs = scoresOf(c);
    return { b, c, bs, cs, deltas: Object.fromEntries(names.map((n) => [n, (cs.get(n)?.score ?? 0) - (bs.get(n)?.score ?? 0)])) };
  });
  const passDeltas = rows.map((r) => r.c.passed - r.b.passed);
  return {
    base_run_id: base.id,
    candidate_run_id: candidate.id,
    dataset_id: base.datasetId,
    paired_rows: rows.length,
    pass_rate: {
      base: mean(rows.map((r) => r.b.passed)),
      candidate: mean(rows.map((r) => r.c.passed)),
      delta: mean(passDeltas),
      ci: interval(passDeltas),
    },
    scorers: names.map((n) => {
      const b = rows.map((r) => r.bs.get(n)?.score ?? 0);
      const c = rows.map((r) => r.cs.get(n)?.score ?? 0);
      return { scorer: n, base: mean(b), candidate: mean(c), delta: mean(c) - mean(b), ci: interval(rows.map((r) => r.deltas[n])) };
    }),
    rows: rows.map((r) => ({ row_id: r.c.rowId, position: r.c.position, base_passed: r.b.passed === 1, candidate_passed: r.c.passed === 1, deltas: r.deltas })),
    regressions: rows
      .filter((r) => r.b.passed === 1 && r.c.passed === 0)
      .map((r) => ({
        row_id: r.c.rowId,
        position: r.c.position,
        base_output: r.b.output,
        candidate_output: r.c.output,
        failed_scorers: [...r.cs.values()].filter((s) => !s.passed).map((s) => s.scorer),
      })),
    improvements: rows.filter((r) => r.b.passed === 0 && r.c.passed === 1).map((r) => ({ row_id: r.c.rowId, position: r.c.position })),
  };
}

/** The run's row, for the queue consumer and the progress stream. */
export const findRun = (env: Env, id: string) => store.findRun(env.DB, id);
export { ownRun };
