import { TERMINAL, type ExecutionError, type ExecutionRpc, type ExecutionSnapshot, type ExecutionStatus } from '../../durable-objects/contracts';
import { runBatch } from '../db/client';
import type { Env } from '../env';
import type { CallRecorder } from '../engine/llm/gateway';
import { addUsage, emptyUsage, type Usage } from '../engine/llm/types';
import { applyInputDefaults, checkInputs } from '../engine/workflow/inputs';
import { planReplay } from '../engine/workflow/replay';
import { canSuspend, GraphRunner } from '../engine/workflow/runner';
import type { FormField, Graph, InputDef, LogEntry, NodeState } from '../engine/workflow/types';
import { validateGraph, type ValidationIssue } from '../engine/workflow/validate';
import type { AuthUser } from '../lib/auth';
import { ApiError, conflict, notFound, validationError } from '../lib/errors';
import { IsolateCache } from '../lib/isolate-cache';
import { findAgentWorkflowConfig } from '../modules/agents/agents/store';
import { findActiveUser } from '../modules/identity/auth/store';
import { authorizeResource } from '../modules/identity/permissions/authorize';
import { cancelPendingStatement, findPendingApproval, insertApprovalStatement, timeOutPending } from '../modules/workflows/approval/store';
import { insertNotification } from '../modules/goals/notifications/store';
import { findBindingOfUser } from '../modules/integrations/feishu/store';
import { feishuConfig, sendText } from '../engine/feishu/client';
import { insertLogsStatements } from '../modules/workflows/execution-logs/store';
import {
  failInlineRunsStartedBefore,
  findExecution,
  finishExecutionStatement,
  insertExecution,
  insertExecutionStatement,
  markRunning,
  mirrorRunStatement,
  nodesOf,
  upsertNodesStatements,
  type NewExecutionNode,
  type ExecutionNodeRow,
  type ExecutionRow,
  type NewExecution,
} from '../modules/workflows/executions/store';
import { findWorkflow, type WorkflowRow } from '../modules/workflows/workflows/store';
import { detailFromSnapshot, isInline, stepNodeId, type ExecutionDetail, type InlineMode, type InlineOutputs } from './execution-view';
import { llmCallStatements } from './llm-calls';
import { principalServices } from './principal';

/**
 * The start and continuation of a workflow run: the one entry point (startExecution) that the
 * workflows API, agents, schedules, webhooks, batch runs and MCP use; the bookkeeping of inline
 * agent runs; and what the Execution actor writes to D1 (its mirror, its approvals).
 */

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
  /** Delegation depth of the run (run_workflow starts runs one deeper than the turn or run that calls it). */
  delegationDepth?: number;
  /** A retry or fork (replayExecution): the recorded node states it reuses and where it comes from. */
  reused?: NodeState[];
  /** A fork at an iteration's item: which one (announced in the run's first log entry). */
  forkedAtItem?: number;
  retryOf?: string | null;
  forkedFrom?: string | null;
  forkedAtNode?: string | null;
  attempt?: number;
  /** `graph` as stored (JSON), when the caller has it: written to the row as it is. */
  graphText?: string;
  /** The graph was validated against `inputsSchema` already (a compiled saved workflow). */
  validated?: boolean;
  /** The run may go inline when it is waited for (`waitMs` > 0) and its graph cannot suspend. */
  inline?: boolean;
}

/**
 * Starts a run: the one entry point for the workflows API, agents, schedules, webhooks and batch
 * runs. Validates the graph and inputs (422), records the run in D1, and answers with its state
 * after at most `waitMs`. `settled` is true when the run finished (succeeded, failed or cancelled)
 * within that time. The run goes to its own Execution Durable Object, unless the caller allows it
 * to run inline (`inline`), it is waited for and its graph cannot suspend: then it runs here
 * (runInline) and its object is made only if it outlives INLINE_HANDOFF_MS.
 */
export async function startExecution(env: Env, opts: StartExecutionOptions): Promise<{ execution: ExecutionDetail; settled: boolean }> {
  if (!opts.validated) {
    const check = validateGraph(opts.graph, opts.inputsSchema ?? []);
    if (!check.valid) throw invalidWorkflow(check.errors);
  }
  const schema = opts.inputsSchema ?? [];
  const inputs = applyInputDefaults(schema, opts.inputs ?? {});
  const problems = checkInputs(schema, inputs);
  if (problems.length) throw validationError(`body.${problems.join('; body.')}`);

  const id = crypto.randomUUID();
  const waitMs = opts.waitMs ?? 0;
  if (opts.inline && waitMs > 0 && !canSuspend(opts.graph)) return runInline(env, opts, id, inputs, waitMs);
  return startInObject(env, opts, id, inputs, waitMs);
}

/** The run's `executions` row as it is first written (pending, or whole for an inline run). */
function executionRow(opts: StartExecutionOptions, id: string, inputs: Record<string, unknown>) {
  return {
    id,
    ownerId: opts.ownerId,
    workflowId: opts.workflowId ?? null,
    workflowVersion: opts.workflowVersion ?? null,
    agentId: opts.agentId ?? null,
    parentExecutionId: opts.parentExecutionId ?? null,
    trigger: opts.trigger ?? 'api',
    status: 'pending',
    inputs: JSON.stringify(inputs),
    graph: opts.graphText ?? JSON.stringify(opts.graph),
    retryOf: opts.retryOf ?? null,
    forkedFrom: opts.forkedFrom ?? null,
    forkedAtNode: opts.forkedAtNode ?? null,
    attempt: opts.attempt ?? 1,
  } satisfies NewExecution;
}

/** Records the run and starts it in its Execution object, with `reused` node states to start from. */
async function startInObject(env: Env, opts: StartExecutionOptions, id: string, inputs: Record<string, unknown>, waitMs: number, reused = opts.reused) {
  await insertExecution(env.DB, executionRow(opts, id, inputs));
  const snap = await executionStub(env, id).start(
    {
      execution_id: id,
      owner_id: opts.ownerId,
      run_as: opts.runAs ?? opts.ownerId,
      workflow_id: opts.workflowId ?? null,
      agent_id: opts.agentId ?? null,
      graph: opts.graph,
      inputs,
      delegation_depth: opts.delegationDepth ?? 0,
      ...(reused ? { reused } : {}),
      ...(opts.retryOf ? { lineage: { retry_of: opts.retryOf } } : opts.forkedFrom ? { lineage: { forked_from: opts.forkedFrom, from_node_id: opts.forkedAtNode ?? undefined, item_index: opts.forkedAtItem } } : {}),
    },
    waitMs,
  );
  const row = await findExecution(env.DB, id);
  return { execution: detailFromSnapshot(row!, snap), settled: TERMINAL.has(snap.status) };
}

/**
 * How long a run may go on inline before it is handed to an Execution object with its state so
 * far (its finished nodes; the nodes in flight run again there, as after an eviction).
 */
export const INLINE_HANDOFF_MS = 10_000;

/**
 * Runs a graph that cannot suspend here, with the same engine and its states in memory, and
 * records it at its end in one D1 batch (the row, its nodes, its log). No Execution object, no
 * round trip while it runs; one that goes on past INLINE_HANDOFF_MS (or `waitMs`) is handed over.
 */
async function runInline(env: Env, opts: StartExecutionOptions, id: string, inputs: Record<string, unknown>, waitMs: number) {
  const startedAt = new Date();
  const logs: MirroredLog[] = [];
  const log = (e: LogEntry) =>
    logs.push({ seq: logs.length + 1, id: crypto.randomUUID(), node_id: e.node_id ?? null, level: e.level, message: e.message, data: e.data === undefined ? null : JSON.stringify(e.data), created_at: new Date().toISOString() });
  log({ level: 'info', message: opts.retryOf ? `Execution started: a retry of ${opts.retryOf}` : opts.forkedFrom ? `Execution started: a fork of ${opts.forkedFrom} from ${opts.forkedAtNode}` : 'Execution started', data: { inputs } });
  // The nodes to record: those the run saved (and the recorded ones a retry or fork starts with).
  const saved = new Set((opts.reused ?? []).map((s) => s.node_id));
  const controller = new AbortController();
  const runAs = opts.runAs ?? opts.ownerId;
  const runner = new GraphRunner({
    env,
    userId: runAs,
    startedBy: opts.ownerId,
    executionId: id,
    workflowId: opts.workflowId ?? null,
    graph: opts.graph,
    inputs,
    delegationDepth: opts.delegationDepth ?? 0,
    signal: controller.signal,
    services: principalServices(env, runAs, opts.agentId ?? null, opts.delegationDepth ?? 0),
    states: opts.reused,
    hooks: { save: (s) => saved.add(s.node_id), log },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.min(INLINE_HANDOFF_MS, waitMs))));
  const outcome = await Promise.race([runner.run(), bound]);
  clearTimeout(timer);

  if (!outcome || outcome.status === 'waiting' || outcome.status === 'paused') {
    // Handed over: the finished nodes go with it, the others start again in the object.
    const finished = structuredClone([...runner.states.values()].filter((s) => s.status === 'succeeded' || s.status === 'failed' || s.status === 'skipped'));
    controller.abort();
    return startInObject(env, opts, id, inputs, Math.max(0, waitMs - (Date.now() - startedAt.getTime())), finished);
  }
  const finishedAt = new Date();
  const status = outcome.status as 'succeeded' | 'failed' | 'cancelled';
  const error = status === 'succeeded' ? null : outcome.error ?? null;
  log({ level: status === 'succeeded' ? 'info' : 'error', message: `Execution ${status}${error ? `: ${error.message}` : ''}`, data: error ?? undefined });
  const usage = runUsage(outcome.states);
  const outputs = status === 'succeeded' ? outcome.outputs : {};
  const run = { execution_id: id, owner_id: opts.ownerId };
  const at = finishedAt.toISOString();
  // The row as written (no RETURNING: nothing of it is the database's to decide).
  const row: ExecutionRow = {
    ...executionRow(opts, id, inputs),
    mode: null,
    status,
    outputs: JSON.stringify(outputs),
    error: error ? JSON.stringify(error) : null,
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens,
    startedAt: startedAt.toISOString(),
    finishedAt: at,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    createdAt: at,
    updatedAt: at,
  };
  const nodes = outcome.states.filter((s) => saved.has(s.node_id));
  await runBatch(env.DB, [insertExecutionStatement(env.DB, row), ...upsertNodesStatements(env.DB, nodes.map((s) => nodeRow(id, s))), ...insertLogsStatements(env.DB, logRows(run, logs))]);
  const snap: ExecutionSnapshot = { execution_id: id, status, outputs, error, started_at: row.startedAt, finished_at: row.finishedAt, nodes };
  return { execution: detailFromSnapshot(row, snap, opts.graph), settled: true };
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
export async function executeWorkflow(env: Env, user: string | AuthUser, workflowId: string, opts: RunWorkflowOptions = {}) {
  const [starterUser, wf] = await Promise.all([starter(env, user), findWorkflow(env.DB, workflowId)]);
  if (!starterUser) throw notFound('Workflow');
  return runWorkflow(env, starterUser, wf, opts);
}

export interface RunWorkflowOptions {
  inputs?: Record<string, unknown>;
  trigger?: string;
  waitMs?: number;
  delegationDepth?: number;
  /** The run may go inline (startExecution) when it is waited for and cannot suspend. */
  inline?: boolean;
}

/** executeWorkflow for a starter and a workflow row the caller has read (null: none, 404). */
export async function runWorkflow(env: Env, starterUser: AuthUser, wf: WorkflowRow | null, opts: RunWorkflowOptions = {}) {
  await authorizeResource(env, starterUser, 'workflow', wf && { id: wf.id, owner_id: wf.ownerId }, 'execute');
  const compiled = compileWorkflow(wf!);
  return startExecution(env, {
    ownerId: starterUser.id,
    runAs: wf!.ownerId,
    graph: compiled.graph,
    graphText: wf!.graph,
    inputsSchema: compiled.inputsSchema,
    validated: true,
    inputs: opts.inputs,
    workflowId: wf!.id,
    workflowVersion: wf!.version,
    trigger: opts.trigger,
    waitMs: opts.waitMs,
    delegationDepth: opts.delegationDepth,
    inline: opts.inline,
  });
}

/** A saved workflow's graph parsed and validated, kept per isolate while its text stays the same. */
interface CompiledWorkflow {
  graphText: string;
  schemaText: string;
  graph: Graph;
  inputsSchema: InputDef[];
}
/** By workflow id, while the stored text is the one compiled (no age bound: a change is a miss). */
const compiledWorkflows = new IsolateCache<string, CompiledWorkflow>(500, Infinity);

/**
 * The workflow's graph and inputs schema, parsed and validated (422 when invalid): from the
 * isolate's cache when the stored text is the one compiled (any change, a new version or an edit,
 * is a miss). The cached graph is shared by runs: nothing may change it.
 */
function compileWorkflow(wf: WorkflowRow): CompiledWorkflow {
  const hit = compiledWorkflows.get(wf.id);
  if (hit && hit.graphText === wf.graph && hit.schemaText === wf.inputsSchema) return hit;
  const graph = JSON.parse(wf.graph) as Graph;
  const inputsSchema = JSON.parse(wf.inputsSchema) as InputDef[];
  const check = validateGraph(graph, inputsSchema);
  if (!check.valid) throw invalidWorkflow(check.errors);
  const compiled = { graphText: wf.graph, schemaText: wf.inputsSchema, graph, inputsSchema };
  compiledWorkflows.set(wf.id, compiled);
  return compiled;
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
  const [starterUser, row] = await Promise.all([starter(env, user), findAgentWorkflowConfig(env.DB, agentId)]);
  if (!starterUser) throw notFound('Agent');
  await authorizeResource(env, starterUser, 'agent', row && { id: row.id, owner_id: row.ownerId }, 'execute');
  const config = row!.workflowConfig ? (JSON.parse(row!.workflowConfig) as Partial<Graph>) : null;
  const graph = config?.nodes?.length ? { nodes: config.nodes, edges: config.edges ?? [] } : AGENT_GRAPH;
  return startExecution(env, { ownerId: starterUser.id, runAs: row!.ownerId, graph, inputs: opts.inputs, agentId: row!.id, trigger: opts.trigger, waitMs: opts.waitMs });
}

// --- retries and forks ------------------------------------------------------------------------

export interface ReplayRequest {
  /** retry: run again what failed, was cancelled or never ran; fork: run again from `fromNodeId` on. */
  kind: 'retry' | 'fork';
  fromNodeId?: string;
  /** A fork at an iteration (or a node of its body): the one item that runs again. */
  itemIndex?: number;
  /** Merged over the recorded run's inputs (the nodes that run again see them). */
  inputs?: Record<string, unknown>;
  /** Per node: `config` keys replacing the recorded ones (only for nodes that run again). */
  nodeOverrides?: Record<string, { config: Record<string, unknown> }>;
  waitMs?: number;
}

/**
 * A recorded run's nodes as the engine's states, from its D1 rows (they outlive the run's
 * Execution object): the order they finished in is their `seq`, or else their finish time.
 */
function statesFromRows(graph: Graph, rows: ExecutionNodeRow[]): NodeState[] {
  const position = new Map(graph.nodes.map((n, i) => [n.id, i]));
  const parse = (text: string | null) => (text === null ? undefined : JSON.parse(text));
  const states = rows.map(
    (r): NodeState => ({
      node_id: r.nodeId,
      type: r.nodeType,
      label: r.label ?? undefined,
      status: r.status as NodeState['status'],
      inputs: parse(r.inputs),
      output: parse(r.outputs),
      error: parse(r.error),
      branch: r.branch ?? undefined,
      attempts: r.attempts,
      calls: [],
      usage: emptyUsage(),
      started_at: r.startedAt ?? undefined,
      finished_at: r.finishedAt ?? undefined,
      duration_ms: r.durationMs ?? undefined,
      seq: r.seq ?? undefined,
      reused_from: r.reusedFrom ?? undefined,
    }),
  );
  const done = states
    .filter((s) => s.status === 'succeeded' || s.status === 'failed')
    .sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity) || (a.finished_at ?? '').localeCompare(b.finished_at ?? '') || (position.get(a.node_id) ?? 0) - (position.get(b.node_id) ?? 0));
  done.forEach((s, i) => (s.seq = i + 1));
  return states;
}

/**
 * Whose rights a retry or fork uses: like a new run, the owner of the workflow (or agent) it
 * ran, which the caller must still be allowed to execute; the caller's own once it is gone.
 */
async function replayPrincipal(env: Env, user: AuthUser, row: ExecutionRow): Promise<string> {
  if (row.workflowId) {
    const wf = await findWorkflow(env.DB, row.workflowId);
    if (wf) {
      await authorizeResource(env, user, 'workflow', { id: wf.id, owner_id: wf.ownerId }, 'execute');
      return wf.ownerId;
    }
  } else if (row.agentId) {
    const agent = await findAgentWorkflowConfig(env.DB, row.agentId);
    if (agent) {
      await authorizeResource(env, user, 'agent', { id: agent.id, owner_id: agent.ownerId }, 'execute');
      return agent.ownerId;
    }
  }
  return user.id;
}

/**
 * Where a fork runs again from: a node of the graph, or `<iteration>/<body node>` with an item
 * (body nodes are not recorded one by one: that item's whole body runs again, the other items
 * keep their recorded results). 422 for a node that is not there.
 */
function forkPoint(graph: Graph, fromNodeId: string, itemIndex?: number): { nodeId: string; items?: number[] } {
  const slash = fromNodeId.indexOf('/');
  const nodeId = slash < 0 ? fromNodeId : fromNodeId.slice(0, slash);
  const node = graph.nodes.find((n) => n.id === nodeId);
  if (!node) throw validationError(`body.from_node_id: the run's graph has no node ${nodeId}`);
  if (slash >= 0) {
    const inner = fromNodeId.slice(slash + 1);
    if (node.type !== 'iteration') throw validationError(`body.from_node_id: only an iteration's body can be forked into (${nodeId} is a ${node.type}; fork at ${nodeId} itself)`);
    if (!((node.config?.body as Graph | undefined)?.nodes ?? []).some((n) => n.id === inner)) throw validationError(`body.from_node_id: the body of ${nodeId} has no node ${inner}`);
    if (itemIndex === undefined) throw validationError(`body.item_index: which item of iteration ${nodeId} to run again`);
  }
  if (itemIndex === undefined) return { nodeId };
  if (node.type !== 'iteration') throw validationError(`body.item_index: only a fork at an iteration (or a node of its body) takes an item`);
  return { nodeId, items: [itemIndex] };
}

/**
 * Retries or forks a recorded run that `user` may control (the caller checked): a new execution
 * linked to it (`retry_of` / `forked_from`) over the graph as it ran, starting with the recorded
 * results it reuses (planReplay), so no model, tool or HTTP call of a reused node is made again.
 * Read from D1, so it works after the run's Execution object is gone.
 */
export async function replayExecution(env: Env, user: AuthUser, source: ExecutionRow, req: ReplayRequest): Promise<{ execution: ExecutionDetail; settled: boolean }> {
  const verb = req.kind === 'retry' ? 'retried' : 'forked';
  if (isInline(source) || !source.graph) throw conflict(`This agent run (mode ${source.mode}) ran inline without a workflow graph and cannot be ${verb}`);
  if (req.kind === 'retry' && source.status !== 'failed' && source.status !== 'cancelled') {
    throw conflict(`Only a failed or cancelled execution can be retried (it is ${source.status})${source.status === 'succeeded' ? '; fork it to run part of it again' : ''}`);
  }
  if (req.kind === 'fork' && !TERMINAL.has(source.status)) throw conflict(`Only a finished execution (succeeded, failed or cancelled) can be forked (it is ${source.status})`);
  const graph = JSON.parse(source.graph) as Graph;
  const from = req.fromNodeId === undefined ? undefined : forkPoint(graph, req.fromNodeId, req.itemIndex);
  const [rows, runAs] = await Promise.all([nodesOf(env.DB, source.id), replayPrincipal(env, user, source)]);
  const recorded = statesFromRows(graph, rows);
  if (from?.items) {
    const results = recorded.find((s) => s.node_id === from.nodeId && s.status === 'succeeded')?.output?.results;
    if (!Array.isArray(results) || req.itemIndex! >= results.length) {
      throw validationError(`body.item_index: iteration ${from.nodeId} has no recorded result for item ${req.itemIndex} (it did not succeed, or has fewer items)`);
    }
  }
  const plan = planReplay(graph, recorded, { sourceExecutionId: source.id, from: from?.nodeId, items: from?.items });
  const overrides = req.nodeOverrides ?? {};
  for (const id of Object.keys(overrides)) {
    if (!graph.nodes.some((n) => n.id === id)) throw validationError(`body.node_overrides.${id}: the run's graph has no node ${id}`);
    if (!plan.rerun.includes(id)) throw validationError(`body.node_overrides.${id}: this node's recorded result is reused, it does not run again (fork from it to change it)`);
  }
  const inputs = { ...(JSON.parse(source.inputs) as Record<string, unknown>), ...(req.inputs ?? {}) };
  // The start node's output is the run's inputs: a reused one shows the new ones.
  const reused = plan.reused.map((s) => (req.inputs && s.type === 'start' ? { ...s, output: { ...inputs } } : s));
  return startExecution(env, {
    ownerId: user.id,
    runAs,
    graph: { ...graph, nodes: graph.nodes.map((n) => (overrides[n.id] ? { ...n, config: { ...(n.config ?? {}), ...overrides[n.id].config } } : n)) },
    inputs,
    workflowId: source.workflowId,
    workflowVersion: source.workflowVersion,
    agentId: source.agentId,
    trigger: req.kind,
    waitMs: req.waitMs,
    reused,
    retryOf: req.kind === 'retry' ? source.id : null,
    forkedFrom: req.kind === 'fork' ? source.id : null,
    forkedAtNode: req.kind === 'fork' ? req.fromNodeId ?? null : null,
    forkedAtItem: req.itemIndex,
    attempt: req.kind === 'retry' ? source.attempt + 1 : 1,
  });
}

// --- inline runs ---------------------------------------------------------------------------

/** Records the start of an inline run of one of the owner's agents; its row is `running`. */
export async function beginInlineExecution(
  env: Env,
  opts: { ownerId: string; agentId: string; mode: InlineMode; inputs: Record<string, unknown>; trigger?: string },
): Promise<{ id: string; startedAt: Date }> {
  const id = crypto.randomUUID();
  const startedAt = new Date();
  const at = startedAt.toISOString();
  await insertExecution(env.DB, {
    id,
    ownerId: opts.ownerId,
    agentId: opts.agentId,
    trigger: opts.trigger ?? 'execute',
    mode: opts.mode,
    status: 'running',
    inputs: JSON.stringify(opts.inputs),
    startedAt: at,
    createdAt: at,
    updatedAt: at,
  });
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
  return failInlineRunsStartedBefore(env.DB, new Date(now - INLINE_RUN_MAX_MS).toISOString(), at, error);
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
  const nodes = steps.map((s, i): NewExecutionNode => {
    const started = s.started_at ?? null;
    return {
      executionId: run.id,
      nodeId: stepNodeId(s, i),
      nodeType: 'agent',
      label: s.agent_name,
      status: 'succeeded',
      inputs: JSON.stringify({ agent_id: s.agent_id, input: s.input }),
      outputs: JSON.stringify({ reply: s.output, token_usage: s.token_usage }),
      attempts: 1,
      totalTokens: s.token_usage.total_tokens,
      startedAt: started,
      finishedAt: started ? new Date(Date.parse(started) + s.duration_ms).toISOString() : null,
      durationMs: s.duration_ms,
    };
  });
  const calls = end.recorder ? llmCallStatements(env.DB, end.recorder) : [];
  // One batch: the run, its steps and its model-call records.
  const [updated] = await runBatch(env.DB, [
    finishExecutionStatement(env.DB, run.id, {
      status: end.status,
      outputs: stored ? JSON.stringify(stored) : null,
      error: end.error ? JSON.stringify(end.error) : null,
      promptTokens: end.usage.prompt_tokens,
      completionTokens: end.usage.completion_tokens,
      totalTokens: end.usage.total_tokens,
      finishedAt: at,
      durationMs: finishedAt.getTime() - run.startedAt.getTime(),
      updatedAt: at,
    }),
    ...upsertNodesStatements(env.DB, nodes),
    ...calls,
  ]);
  end.recorder?.clear(calls.length);
  return (updated as ExecutionRow[])[0];
}

// --- what the Execution actor writes to D1 ---------------------------------------------------

/** The run as the actor holds it (its RunMeta). */
export interface MirroredRun {
  execution_id: string;
  owner_id: string;
  status: ExecutionStatus;
  outputs: Record<string, unknown> | null;
  error: ExecutionError | null;
  started_at: string | null;
  finished_at: string | null;
}

/** A log entry of the actor's storage not yet in D1. */
export type MirroredLog = {
  seq: number;
  id: string;
  node_id: string | null;
  level: string;
  message: string;
  data: string | null;
  created_at: string;
};

/** The run is running (the actor took it). */
export async function recordRunStarted(d1: D1Database, executionId: string, startedAt: string): Promise<void> {
  await markRunning(d1, executionId, startedAt);
}

/** A node state as its `execution_nodes` row. */
function nodeRow(executionId: string, s: NodeState): NewExecutionNode {
  return {
    executionId,
    nodeId: s.node_id,
    nodeType: s.type,
    label: s.label ?? null,
    status: s.status,
    inputs: s.inputs === undefined ? null : JSON.stringify(s.inputs),
    outputs: s.output === undefined ? null : JSON.stringify(s.output),
    error: s.error ? JSON.stringify(s.error) : null,
    branch: s.branch ?? null,
    attempts: s.attempts,
    calls: JSON.stringify(s.calls ?? []),
    totalTokens: s.usage?.total_tokens ?? 0,
    startedAt: s.started_at ?? null,
    finishedAt: s.finished_at ?? null,
    durationMs: s.duration_ms ?? null,
    seq: s.seq ?? null,
    reusedFrom: s.reused_from ?? null,
  };
}

/** Token usage over all of a run's nodes. */
function runUsage(states: NodeState[]): Usage {
  const usage = emptyUsage();
  for (const s of states) addUsage(usage, s.usage ?? emptyUsage());
  return usage;
}

/** Log entries as their `execution_logs` rows. */
function logRows(run: { execution_id: string; owner_id: string }, logs: MirroredLog[]) {
  return logs.map((l) => ({
    id: l.id,
    executionId: run.execution_id,
    ownerId: run.owner_id,
    seq: l.seq,
    nodeId: l.node_id,
    level: l.level as 'info',
    message: l.message,
    data: l.data,
    createdAt: l.created_at,
  }));
}

/**
 * Writes the run (status, outputs, token usage over all its nodes, timings), the changed nodes and
 * the new log entries to D1 in one batch.
 */
export async function mirrorRun(d1: D1Database, run: MirroredRun, states: NodeState[], dirty: NodeState[], logs: MirroredLog[]): Promise<void> {
  const usage = runUsage(states);
  const duration = run.finished_at && run.started_at ? Date.parse(run.finished_at) - Date.parse(run.started_at) : null;
  await runBatch(d1, [
    mirrorRunStatement(d1, run.execution_id, {
      status: run.status,
      outputs: run.outputs ? JSON.stringify(run.outputs) : null,
      error: run.error ? JSON.stringify(run.error) : null,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      totalTokens: usage.total_tokens,
      startedAt: run.started_at,
      finishedAt: run.finished_at,
      durationMs: duration,
    }),
    ...upsertNodesStatements(d1, dirty.map((s) => nodeRow(run.execution_id, s))),
    ...insertLogsStatements(d1, logRows(run, logs)),
  ]);
}

/** A cancelled run's pending approvals are cancelled too. */
export async function cancelRunApprovals(d1: D1Database, executionId: string): Promise<void> {
  await runBatch(d1, [cancelPendingStatement(d1, executionId)]);
}

/**
 * The approval a human_approval node (or the form a human_input node: kind input) asks for, with
 * a notification to whoever answers it (the designated approver or assignee, else the run's
 * owner) in the same batch; a node re-run after a restart finds the one it already asked for.
 * Returns the new approval's id and who was notified (for notifyOnFeishu), or the existing id.
 */
export async function requestApproval(
  d1: D1Database,
  run: { execution_id: string; owner_id: string },
  req: { node_id: string; kind?: 'approval' | 'input'; title: string; description: string; approver_id: string | null; fields?: FormField[]; timeout_at: string | null },
): Promise<{ id: string; notify: { user_id: string; text: string } | null }> {
  const existing = await findPendingApproval(d1, run.execution_id, req.node_id);
  if (existing) return { id: existing, notify: null };
  const id = crypto.randomUUID();
  const kind = req.kind ?? 'approval';
  const assignee = req.approver_id ?? run.owner_id;
  const body =
    (req.description ? `${req.description}\n\n` : '') +
    (kind === 'input'
      ? `Fill in the form (${(req.fields ?? []).map((f) => f.name).join(', ')}): GET /api/v1/approval lists it, POST /api/v1/approval/${id}/submit answers it.`
      : `Approve or reject: POST /api/v1/approval/${id}/decide.`) +
    (req.timeout_at ? ` Open until ${req.timeout_at}.` : '');
  const title = `${kind === 'input' ? 'Input needed' : 'Approval needed'}: ${req.title}`;
  await runBatch(d1, [
    insertApprovalStatement(d1, {
      id,
      executionId: run.execution_id,
      nodeId: req.node_id,
      ownerId: run.owner_id,
      approverId: req.approver_id,
      title: req.title,
      description: req.description,
      timeoutAt: req.timeout_at,
      kind,
      fields: req.fields ? JSON.stringify(req.fields) : null,
    }),
    insertNotification(d1, assignee, { type: kind === 'input' ? 'input_requested' : 'approval_requested', title, body, resourceType: 'approval', resourceId: id }),
  ]);
  return { id, notify: { user_id: assignee, text: `${title}\n${body}` } };
}

/**
 * Tells a user on Feishu when their account is bound and the bot is configured. Best effort: the
 * in-platform notification is the record; a failure is returned for the run's log, never thrown.
 */
export async function notifyOnFeishu(env: Env, userId: string, text: string): Promise<{ sent: boolean; error?: string }> {
  const cfg = feishuConfig(env);
  if (!cfg) return { sent: false };
  try {
    const binding = await findBindingOfUser(env.DB, userId);
    if (!binding) return { sent: false };
    await sendText(env, cfg, 'open_id', binding.openId, text);
    return { sent: true };
  } catch (e) {
    return { sent: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Times out a still-pending approval; false when a decision won the race. */
export function timeOutApproval(d1: D1Database, approvalId: string): Promise<boolean> {
  return timeOutPending(d1, approvalId);
}
