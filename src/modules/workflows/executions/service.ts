import { TERMINAL, type ExecutionRpc, type ExecutionSnapshot } from '../../../../durable-objects/contracts';
import type { Env } from '../../../env';
import { applyInputDefaults, checkInputs } from '../../../engine/workflow/nodes';
import type { Graph, InputDef, NodeState } from '../../../engine/workflow/types';
import { validateGraph, type ValidationIssue } from '../../../engine/workflow/validate';
import { findActiveUser } from '../../identity/auth/guard';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { authorizeResource, decide, loadResourceRef, readableFilter, resourceLabel, type ResourceType } from '../../identity/permissions/authorize';
import { ApiError, conflict, forbidden, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import type { CallRecorder } from '../../../engine/llm/gateway';
import { llmCallStatements } from '../../../runs/llm-calls';
import { loadTurnAgent } from '../../../runs/agents';
import type { Usage } from '../../../engine/llm/types';
import type { Step } from '../../../engine/orchestration';

export interface ExecutionRow {
  id: string;
  owner_id: string;
  workflow_id: string | null;
  workflow_version: number | null;
  agent_id: string | null;
  parent_execution_id: string | null;
  trigger: string;
  /** Set for runs of `POST /agents/{id}/execute`, which run inline (no Execution DO). */
  mode: string | null;
  status: string;
  inputs: string;
  graph: string | null;
  outputs: string | null;
  error: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  created_at: string;
  updated_at: string;
}

interface NodeRow {
  node_id: string;
  node_type: string;
  label: string | null;
  status: string;
  inputs: string | null;
  outputs: string | null;
  error: string | null;
  branch: string | null;
  attempts: number;
  total_tokens: number;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
}

const parse = (s: string | null) => (s === null || s === undefined ? null : JSON.parse(s));

export function toExecution(row: ExecutionRow) {
  return {
    id: row.id,
    owner_id: row.owner_id,
    workflow_id: row.workflow_id,
    workflow_version: row.workflow_version,
    agent_id: row.agent_id,
    trigger: row.trigger,
    mode: row.mode as InlineMode | null,
    status: row.status as any,
    inputs: JSON.parse(row.inputs),
    outputs: parse(row.outputs),
    error: parse(row.error),
    token_usage: { prompt_tokens: row.prompt_tokens, completion_tokens: row.completion_tokens, total_tokens: row.total_tokens },
    started_at: row.started_at,
    finished_at: row.finished_at,
    duration_ms: row.duration_ms,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function nodeFromState(s: NodeState) {
  return {
    node_id: s.node_id,
    node_type: s.type,
    label: s.label ?? null,
    status: s.status,
    inputs: s.inputs ?? null,
    outputs: s.output ?? null,
    error: s.error ?? null,
    branch: s.branch ?? null,
    attempts: s.attempts,
    total_tokens: s.usage?.total_tokens ?? 0,
    started_at: s.started_at ?? null,
    finished_at: s.finished_at ?? null,
    duration_ms: s.duration_ms ?? null,
  };
}

function nodeFromRow(r: NodeRow) {
  return {
    node_id: r.node_id,
    node_type: r.node_type,
    label: r.label,
    status: r.status as ReturnType<typeof nodeFromState>['status'],
    inputs: parse(r.inputs),
    outputs: parse(r.outputs),
    error: parse(r.error),
    branch: r.branch,
    attempts: r.attempts,
    total_tokens: r.total_tokens,
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: r.duration_ms,
  };
}

/** The D1 row merged with the live state of its Execution DO. */
function detailFromSnapshot(row: ExecutionRow, snap: ExecutionSnapshot) {
  const base = toExecution(row);
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const n of snap.nodes) {
    usage.prompt_tokens += n.usage?.prompt_tokens ?? 0;
    usage.completion_tokens += n.usage?.completion_tokens ?? 0;
    usage.total_tokens += n.usage?.total_tokens ?? 0;
  }
  const finished = snap.finished_at;
  return {
    ...base,
    status: snap.status,
    outputs: snap.outputs,
    error: snap.error,
    started_at: snap.started_at,
    finished_at: finished,
    duration_ms: finished && snap.started_at ? Date.parse(finished) - Date.parse(snap.started_at) : base.duration_ms,
    token_usage: usage,
    nodes: inGraphOrder(row, snap.nodes.map(nodeFromState)),
  };
}

/**
 * Nodes in the order the graph lists them (timestamps tie within a millisecond); an inline run's
 * in the order of its steps.
 */
function inGraphOrder<T extends { node_id: string }>(row: ExecutionRow, nodes: T[]): T[] {
  const order = new Map<string, number>();
  if (row.graph) (JSON.parse(row.graph) as Graph).nodes.forEach((n, i) => order.set(n.id, i));
  else if (isInline(row) && row.outputs) ((JSON.parse(row.outputs) as InlineOutputs).steps ?? []).forEach((s, i) => order.set(stepNodeId(s, i), i));
  return [...nodes].sort((a, b) => (order.get(a.node_id) ?? 1e9) - (order.get(b.node_id) ?? 1e9));
}

export type ExecutionDetail = ReturnType<typeof detailFromSnapshot>;

export function executionStub(env: Env, id: string): ExecutionRpc {
  return env.EXECUTION.get(env.EXECUTION.idFromName(id)) as unknown as ExecutionRpc;
}

/** 422 carrying a graph's validation errors, one per `;`-separated part of the message. */
export function invalidWorkflow(errors: ValidationIssue[]): ApiError {
  const parts = errors.slice(0, 20).map((e) => {
    const where = e.node_id ?? (e.edge ? `${e.edge.source}->${e.edge.target}` : 'graph');
    return `${where}: ${e.code}: ${e.message}`;
  });
  return validationError(`Workflow graph is invalid (${errors.length} error${errors.length === 1 ? '' : 's'}): ${parts.join('; ')}`);
}

export interface StartExecutionOptions {
  /** Who starts the run: the execution is theirs. */
  ownerId: string;
  /**
   * Whose rights the graph uses (agent nodes, sub-workflows, tools, model configs): the owner
   * of the workflow or agent being run. Defaults to ownerId.
   */
  runAs?: string;
  graph: Graph;
  inputsSchema?: InputDef[];
  inputs?: Record<string, unknown>;
  workflowId?: string | null;
  workflowVersion?: number | null;
  agentId?: string | null;
  parentExecutionId?: string | null;
  /** What started the run: api, agent, schedule, webhook, batch, ... */
  trigger?: string;
  /** Wait this long for the run to come to rest (0: answer at once). */
  waitMs?: number;
}

/**
 * Starts a run in its own Execution Durable Object: the one entry point for the workflows API,
 * agents, schedules, webhooks and batch runs. Validates the graph and inputs (422), records the
 * run in D1, and answers with its state after at most `waitMs`.
 * `settled` is true when the run finished (succeeded, failed or cancelled) within that time.
 */
export async function startExecution(env: Env, opts: StartExecutionOptions): Promise<{ execution: ExecutionDetail; settled: boolean }> {
  const check = validateGraph(opts.graph, opts.inputsSchema ?? []);
  if (!check.valid) throw invalidWorkflow(check.errors);
  const schema = opts.inputsSchema ?? [];
  const inputs = applyInputDefaults(schema, opts.inputs ?? {});
  const problems = checkInputs(schema, inputs);
  if (problems.length) throw validationError(`body.${problems.join('; body.')}`);

  const id = crypto.randomUUID();
  await env.DB.prepare(
    `INSERT INTO executions (id, owner_id, workflow_id, workflow_version, agent_id, parent_execution_id, trigger, status, inputs, graph)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
  )
    .bind(
      id,
      opts.ownerId,
      opts.workflowId ?? null,
      opts.workflowVersion ?? null,
      opts.agentId ?? null,
      opts.parentExecutionId ?? null,
      opts.trigger ?? 'api',
      JSON.stringify(inputs),
      JSON.stringify(opts.graph),
    )
    .run();
  const snap = await executionStub(env, id).start(
    { execution_id: id, owner_id: opts.ownerId, run_as: opts.runAs ?? opts.ownerId, workflow_id: opts.workflowId ?? null, agent_id: opts.agentId ?? null, graph: opts.graph, inputs },
    opts.waitMs ?? 0,
  );
  const row = await loadRow(env, id);
  return { execution: detailFromSnapshot(row!, snap), settled: TERMINAL.has(snap.status) };
}

/** The account behind a user id (schedules, webhooks and batches start runs for their owner). */
async function starter(env: Env, user: string | AuthUser): Promise<AuthUser | null> {
  return typeof user === 'string' ? findActiveUser(env, user) : user;
}

/**
 * Runs a saved workflow (its current version) for `user`: one they may `execute` (authorize():
 * owner, admin, grant or role; 404 when they may not read it, 403 when they may only read it).
 * The run is the starter's; its graph uses the workflow owner's rights (their agents, tools
 * and models): sharing a workflow for execution means lending what it is made of.
 */
export async function executeWorkflow(
  env: Env,
  user: string | AuthUser,
  workflowId: string,
  opts: { inputs?: Record<string, unknown>; trigger?: string; waitMs?: number } = {},
) {
  const [runner, wf] = await Promise.all([
    starter(env, user),
    env.DB.prepare('SELECT id, owner_id, graph, inputs_schema, version FROM workflows WHERE id = ?')
      .bind(workflowId)
      .first<{ id: string; owner_id: string; graph: string; inputs_schema: string; version: number }>(),
  ]);
  if (!runner) throw notFound('Workflow');
  await authorizeResource(env, runner, 'workflow', wf, 'execute');
  return startExecution(env, {
    ownerId: runner.id,
    runAs: wf!.owner_id,
    graph: JSON.parse(wf!.graph),
    inputsSchema: JSON.parse(wf!.inputs_schema),
    inputs: opts.inputs,
    workflowId: wf!.id,
    workflowVersion: wf!.version,
    trigger: opts.trigger,
    waitMs: opts.waitMs,
  });
}

/** The default graph of an agent without its own workflow_config: start → agent → end. */
export const AGENT_GRAPH: Graph = {
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'agent', type: 'agent' },
    { id: 'end', type: 'end' },
  ],
  edges: [
    { source: 'start', target: 'agent' },
    { source: 'agent', target: 'end' },
  ],
};

/**
 * Runs an agent `user` may `execute` as a workflow execution in an Execution DO: its
 * `workflow_config` graph (or start → agent → end), where agent nodes without an `agent_id` are
 * this agent; `inputs.message` is the prompt. Like a workflow run, the run is the starter's and
 * uses the agent owner's rights. (`POST /agents/{id}/execute` runs inline instead: see
 * beginInlineExecution.)
 */
export async function executeAgentWorkflow(
  env: Env,
  user: string | AuthUser,
  agentId: string,
  opts: { inputs?: Record<string, unknown>; trigger?: string; waitMs?: number } = {},
) {
  const [runner, row] = await Promise.all([
    starter(env, user),
    loadTurnAgent(env.DB, agentId),
  ]);
  if (!runner) throw notFound('Agent');
  await authorizeResource(env, runner, 'agent', row, 'execute');
  const config = row!.workflow_config as Partial<Graph> | null;
  const graph = config?.nodes?.length ? { nodes: config.nodes, edges: config.edges ?? [] } : AGENT_GRAPH;
  return startExecution(env, { ownerId: runner.id, runAs: row!.owner_id, graph, inputs: opts.inputs, agentId: row!.id, trigger: opts.trigger, waitMs: opts.waitMs });
}

// --- inline runs ---------------------------------------------------------------------------

export const INLINE_MODES = ['agent', 'sequential', 'pipeline', 'debate', 'graph'] as const;
export type InlineMode = (typeof INLINE_MODES)[number];

/** One agent's part of an inline run: the orchestration step, with when it started (which goes to its node row, not the stored step). */
export type InlineStep = Step & { started_at?: string };

/** What an inline run stores in `outputs` when it succeeds. */
export interface InlineOutputs {
  output: string;
  steps: InlineStep[];
}

/** A run that ran in its request (`POST /agents/{id}/execute`), not in an Execution DO. */
export const isInline = (row: Pick<ExecutionRow, 'mode'>) => row.mode !== null && row.mode !== undefined;

/** The node id of a step: its graph node's, else `step-<n>` (1-based). */
export const stepNodeId = (step: Pick<InlineStep, 'node_id'>, index: number) => step.node_id ?? `step-${index + 1}`;

/** Records the start of an inline run of one of the owner's agents; its row is `running`. */
export async function beginInlineExecution(
  env: Env,
  opts: { ownerId: string; agentId: string; mode: InlineMode; inputs: Record<string, unknown>; trigger?: string },
): Promise<{ id: string; startedAt: Date }> {
  const id = crypto.randomUUID();
  const startedAt = new Date();
  const at = startedAt.toISOString();
  await env.DB.prepare(
    `INSERT INTO executions (id, owner_id, agent_id, trigger, mode, status, inputs, started_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
  )
    .bind(id, opts.ownerId, opts.agentId, opts.trigger ?? 'execute', opts.mode, JSON.stringify(opts.inputs), at, at, at)
    .run();
  return { id, startedAt };
}

/**
 * An inline run lives inside one request, so one still `running` long after any request could
 * last lost its worker (a crash or a deploy mid-run): the cron marks it failed so it does not
 * stay running for ever.
 */
export const INLINE_RUN_MAX_MS = 30 * 60 * 1000;

export async function failAbandonedInlineRuns(env: Env, now = Date.now()) {
  const at = new Date(now).toISOString();
  const error = JSON.stringify({ code: 'ABANDONED', message: 'The run stopped without finishing (its worker went away)' });
  return env.DB.prepare(
    `UPDATE executions SET status = 'failed', error = ?, finished_at = ?, updated_at = ?
     WHERE mode IS NOT NULL AND status = 'running' AND started_at < ?`,
  )
    .bind(error, at, at, new Date(now - INLINE_RUN_MAX_MS).toISOString())
    .run();
}

/**
 * Records how an inline run ended, in one batch: the execution row (status, outputs, error,
 * token usage, timings) and a node row per step (agent, input, reply, tokens, duration).
 */
export async function finishInlineExecution(
  env: Env,
  run: { id: string; startedAt: Date },
  end: {
    status: 'succeeded' | 'failed';
    outputs: InlineOutputs | null;
    error: { code: string; message: string } | null;
    usage: Usage;
    /** The run's model calls, written in the same batch. */
    recorder?: CallRecorder;
  },
): Promise<ExecutionRow> {
  const finishedAt = new Date();
  const at = finishedAt.toISOString();
  const steps = end.outputs?.steps ?? [];
  const stored = end.outputs ? { ...end.outputs, steps: steps.map(({ started_at: _, ...s }) => s) } : null;
  const nodes = steps.map((s, i) => {
    const started = s.started_at ?? null;
    return env.DB.prepare(
      `INSERT INTO execution_nodes (execution_id, node_id, node_type, label, status, inputs, outputs, attempts, total_tokens, started_at, finished_at, duration_ms)
       VALUES (?, ?, 'agent', ?, 'succeeded', ?, ?, 1, ?, ?, ?, ?)`,
    ).bind(
      run.id,
      stepNodeId(s, i),
      s.agent_name,
      JSON.stringify({ agent_id: s.agent_id, input: s.input }),
      JSON.stringify({ reply: s.output, token_usage: s.token_usage }),
      s.token_usage.total_tokens,
      started,
      started ? new Date(Date.parse(started) + s.duration_ms).toISOString() : null,
      s.duration_ms,
    );
  });
  const calls = end.recorder ? llmCallStatements(env.DB, end.recorder) : [];
  const [updated] = await env.DB.batch<ExecutionRow>([
    env.DB.prepare(
      `UPDATE executions SET status = ?, outputs = ?, error = ?, prompt_tokens = ?, completion_tokens = ?, total_tokens = ?,
         finished_at = ?, duration_ms = ?, updated_at = ? WHERE id = ? RETURNING *`,
    ).bind(
      end.status,
      stored ? JSON.stringify(stored) : null,
      end.error ? JSON.stringify(end.error) : null,
      end.usage.prompt_tokens,
      end.usage.completion_tokens,
      end.usage.total_tokens,
      at,
      finishedAt.getTime() - run.startedAt.getTime(),
      at,
      run.id,
    ),
    ...nodes,
    ...calls,
  ]);
  end.recorder?.clear(calls.length);
  return updated.results[0];
}

/**
 * The watch socket of an inline run (it has no Execution DO to stream from): its state now, as
 * the `snapshot` message a workflow run's socket opens with, then a normal close.
 */
export async function inlineWatchSocket(env: Env, user: AuthUser, id: string): Promise<Response> {
  const detail = await getExecution(env, user, id);
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  const { id: execution_id, status, outputs, error, started_at, finished_at, nodes } = detail;
  server.send(JSON.stringify({ type: 'snapshot', execution_id, status, outputs, error, started_at, finished_at, nodes }));
  server.close(1000, 'An agent execute run runs inline: this is its state');
  return new Response(null, { status: 101, webSocket: client });
}

async function loadRow(env: Env, id: string) {
  return env.DB.prepare('SELECT * FROM executions WHERE id = ?').bind(id).first<ExecutionRow>();
}

/**
 * What a user may do with an execution: `read` it (get, logs, performance, watch) or `execute`
 * — control it (pause, resume, cancel, decide its approvals).
 */
export type ExecutionAction = 'read' | 'execute';

/** What a run was started from: its access follows that resource's. */
function runResource(row: Pick<ExecutionRow, 'workflow_id' | 'agent_id'>): { type: ResourceType; id: string } | null {
  if (row.workflow_id) return { type: 'workflow', id: row.workflow_id };
  if (row.agent_id) return { type: 'agent', id: row.agent_id };
  return null;
}

/**
 * authorize() for executions. A run belongs to the user who started it; besides them (and
 * admins), whoever may read its workflow (or agent) may read the run, and whoever may execute
 * it may control the run. 404 when the user may not even read it, 403 when they may only read it.
 */
export async function authorizeExecution(env: Env, user: AuthUser, row: ExecutionRow | null, action: ExecutionAction): Promise<ExecutionRow> {
  if (!row) throw notFound('Execution');
  if (row.owner_id === user.id || isAdmin(user)) return row;
  const source = runResource(row);
  if (source) {
    const decision = await decide(env, user, source.type, await loadResourceRef(env, source.type, source.id), action);
    if (decision.allowed) return row;
    if (decision.level) throw forbidden(`Your access to this execution's ${resourceLabel(source.type).toLowerCase()} is ${decision.level}; this needs ${action}`);
  }
  throw notFound('Execution');
}

/** The execution, when the user may `action` it (see authorizeExecution). */
export async function accessibleRow(env: Env, user: AuthUser, id: string, action: ExecutionAction = 'read'): Promise<ExecutionRow> {
  return authorizeExecution(env, user, await loadRow(env, id), action);
}

/**
 * The WHERE condition of a list of executions (`alias` names the executions table, e.g. `e.`)
 * the user may read — or, with `level` execute, control: their own runs and the runs of
 * workflows and agents they have that access to (readableFilter). Null: nothing is filtered.
 */
export async function executionFilter(env: Env, user: AuthUser, alias = '', level: ExecutionAction = 'read'): Promise<{ sql: string; binds: unknown[] } | null> {
  if (isAdmin(user)) return null;
  const [workflows, agents] = await Promise.all([
    readableFilter(env, user, 'workflow', { owner: 'owner_id', id: 'id' }, level),
    readableFilter(env, user, 'agent', { owner: 'owner_id', id: 'id' }, level),
  ]);
  if (!workflows && !agents) return null;
  const parts = [`${alias}owner_id = ?`];
  const binds: unknown[] = [user.id];
  for (const [column, table, filter] of [
    ['workflow_id', 'workflows', workflows],
    ['agent_id', 'agents', agents],
  ] as const) {
    if (!filter) parts.push(`${alias}${column} IS NOT NULL`);
    else (parts.push(`${alias}${column} IN (SELECT id FROM ${table} WHERE ${filter.sql})`), binds.push(...filter.binds));
  }
  return { sql: `(${parts.join(' OR ')})`, binds };
}

export async function getExecution(env: Env, user: AuthUser, id: string, known?: ExecutionRow): Promise<ExecutionDetail> {
  const row = known ?? (await accessibleRow(env, user, id, 'read'));
  // An inline run has no Execution DO: D1 holds all of it.
  if (isInline(row) || TERMINAL.has(row.status) || row.status === 'pending') {
    const nodes = await env.DB.prepare('SELECT * FROM execution_nodes WHERE execution_id = ?').bind(id).all<NodeRow>();
    return { ...toExecution(row), nodes: inGraphOrder(row, nodes.results.map(nodeFromRow)) } as ExecutionDetail;
  }
  return detailFromSnapshot(row, await executionStub(env, id).snapshot());
}

export async function listExecutions(
  env: Env,
  user: AuthUser,
  q: Pagination & { workflow_id?: string; agent_id?: string; status?: string; since?: string; until?: string },
) {
  const where: string[] = [];
  const args: unknown[] = [];
  const readable = await executionFilter(env, user);
  if (readable) (where.push(readable.sql), args.push(...readable.binds));
  if (q.workflow_id) (where.push('workflow_id = ?'), args.push(q.workflow_id));
  if (q.agent_id) (where.push('agent_id = ?'), args.push(q.agent_id));
  if (q.status) (where.push('status = ?'), args.push(q.status));
  if (q.since) (where.push('created_at >= ?'), args.push(new Date(q.since).toISOString()));
  if (q.until) (where.push('created_at <= ?'), args.push(new Date(q.until).toISOString()));
  const { limit, offset } = pageBounds(q);
  const clause = where.join(' AND ') || '1';
  const [count, rows] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT count(*) AS n FROM executions WHERE ${clause}`).bind(...args),
    env.DB.prepare(`SELECT id, owner_id, workflow_id, workflow_version, agent_id, parent_execution_id, trigger, mode, status, inputs, outputs, error, prompt_tokens, completion_tokens, total_tokens, started_at, finished_at, duration_ms, created_at, updated_at FROM executions WHERE ${clause} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`).bind(...args, limit, offset),
  ]);
  return paginated((rows.results as unknown as ExecutionRow[]).map(toExecution), (count.results[0] as { n: number }).n, q);
}

/**
 * An inline run cannot be paused, resumed or cancelled (it runs in another request): the same 409
 * a workflow run gives once it has ended, and a 409 saying so while it runs.
 */
function inlineConflict(row: ExecutionRow, action: 'pause' | 'resume' | 'cancel'): ApiError {
  const ended = TERMINAL.has(row.status);
  if (action === 'resume') return conflict(`Only a paused execution can be resumed (it is ${row.status})`);
  if (ended) return conflict(action === 'pause' ? `Only a running or waiting execution can be paused (it is ${row.status})` : `The execution already ended (${row.status})`);
  return conflict(`This agent run (mode ${row.mode}) runs inline in its request and cannot be ${action === 'pause' ? 'paused' : 'cancelled'}`);
}

export async function pauseExecution(env: Env, user: AuthUser, id: string) {
  const row = await accessibleRow(env, user, id, 'execute');
  if (isInline(row)) throw inlineConflict(row, 'pause');
  const r = await executionStub(env, id).pause();
  if (!r.ok) throw conflict(`Only a running or waiting execution can be paused (it is ${r.status ?? row.status})`);
  return getExecution(env, user, id, (await loadRow(env, id)) ?? row);
}

export async function resumeExecution(env: Env, user: AuthUser, id: string, waitMs = 0) {
  const row = await accessibleRow(env, user, id, 'execute');
  if (isInline(row)) throw inlineConflict(row, 'resume');
  const r = await executionStub(env, id).resume(waitMs);
  if (!r.ok) throw conflict(`Only a paused execution can be resumed (it is ${r.snapshot.status})`);
  return getExecution(env, user, id, (await loadRow(env, id)) ?? row);
}

export async function cancelExecution(env: Env, user: AuthUser, id: string) {
  const row = await accessibleRow(env, user, id, 'execute');
  if (isInline(row)) throw inlineConflict(row, 'cancel');
  const r = await executionStub(env, id).cancel();
  if (!r.ok) throw conflict(`The execution already ended (${r.status})`);
  return getExecution(env, user, id, (await loadRow(env, id)) ?? row);
}
