import type { SQL } from 'drizzle-orm';
import { TERMINAL } from '../../../../durable-objects/contracts';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { decide, loadResourceRef, readableWhere, resourceLabel, type ResourceType } from '../../identity/permissions/authorize';
import { ApiError, conflict, forbidden, notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { detailFromRows, detailFromSnapshot, isInline, toExecution, type ExecutionDetail } from '../../../runs/execution-view';
import { executionStub, replayExecution } from '../../../runs/workflow-run';
import { workflowAccess } from '../workflows/store';
import { agentAccess } from '../../agents/agents/store';
import { findExecution, listExecutions as listRuns, nodesOf, readableRunsWhere, type ExecutionRow } from './store';



/**
 * The watch socket of an inline run (it has no Execution DO to stream from), or of a finished run
 * whose object storage was deleted: its state now, as the `snapshot` message a workflow run's
 * socket opens with, then a normal close.
 */
export async function inlineWatchSocket(env: Env, user: AuthUser, id: string, reason = 'An agent execute run runs inline: this is its state'): Promise<Response> {
  const detail = await getExecution(env, user, id);
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  const { id: execution_id, status, outputs, error, started_at, finished_at, nodes } = detail;
  server.send(JSON.stringify({ type: 'snapshot', execution_id, status, outputs, error, started_at, finished_at, nodes }));
  server.close(1000, reason);
  return new Response(null, { status: 101, webSocket: client });
}

/**
 * What a user may do with an execution: `read` it (get, logs, performance, watch) or `execute`
 * — control it (pause, resume, cancel, decide its approvals).
 */
export type ExecutionAction = 'read' | 'execute';

/** What a run was started from: its access follows that resource's. */
function runResource(row: Pick<ExecutionRow, 'workflowId' | 'agentId'>): { type: ResourceType; id: string } | null {
  if (row.workflowId) return { type: 'workflow', id: row.workflowId };
  if (row.agentId) return { type: 'agent', id: row.agentId };
  return null;
}

/**
 * authorize() for executions. A run belongs to the user who started it; besides them (and
 * admins), whoever may read its workflow (or agent) may read the run, and whoever may execute
 * it may control the run. 404 when the user may not even read it, 403 when they may only read it.
 */
export async function authorizeExecution(env: Env, user: AuthUser, row: ExecutionRow | null, action: ExecutionAction): Promise<ExecutionRow> {
  if (!row) throw notFound('Execution');
  if (row.ownerId === user.id || isAdmin(user)) return row;
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
  return authorizeExecution(env, user, await findExecution(env.DB, id), action);
}

/**
 * The condition over executions of the runs the user may read — or, with `level` execute,
 * control: their own runs and the runs of workflows and agents they have that access to
 * (readableWhere). Undefined: nothing is filtered.
 */
export async function executionFilter(env: Env, user: AuthUser, level: ExecutionAction = 'read'): Promise<SQL | undefined> {
  if (isAdmin(user)) return undefined;
  const [workflows, agents] = await Promise.all([
    readableWhere(env, user, 'workflow', workflowAccess, level),
    readableWhere(env, user, 'agent', agentAccess, level),
  ]);
  if (!workflows && !agents) return undefined;
  return readableRunsWhere(env.DB, user.id, { workflows, agents });
}

export async function getExecution(env: Env, user: AuthUser, id: string, known?: ExecutionRow): Promise<ExecutionDetail> {
  const row = known ?? (await accessibleRow(env, user, id, 'read'));
  // An inline run has no Execution DO: D1 holds all of it.
  if (isInline(row) || TERMINAL.has(row.status) || row.status === 'pending') return detailFromRows(row, await nodesOf(env.DB, id));
  return detailFromSnapshot(row, await executionStub(env, id).snapshot());
}

export async function listExecutions(
  env: Env,
  user: AuthUser,
  q: Pagination & { workflow_id?: string; agent_id?: string; status?: string; since?: string; until?: string },
) {
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await listRuns(
    env.DB,
    {
      readable: await executionFilter(env, user),
      workflowId: q.workflow_id,
      agentId: q.agent_id,
      status: q.status,
      since: q.since ? new Date(q.since).toISOString() : undefined,
      until: q.until ? new Date(q.until).toISOString() : undefined,
    },
    limit,
    offset,
  );
  return paginated(rows.map(toExecution), total, q);
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
  return getExecution(env, user, id, (await findExecution(env.DB, id)) ?? row);
}

export async function resumeExecution(env: Env, user: AuthUser, id: string, waitMs = 0) {
  const row = await accessibleRow(env, user, id, 'execute');
  if (isInline(row)) throw inlineConflict(row, 'resume');
  const r = await executionStub(env, id).resume(waitMs);
  if (!r.ok) throw conflict(`Only a paused execution can be resumed (it is ${r.snapshot.status})`);
  return getExecution(env, user, id, (await findExecution(env.DB, id)) ?? row);
}

export async function cancelExecution(env: Env, user: AuthUser, id: string) {
  const row = await accessibleRow(env, user, id, 'execute');
  if (isInline(row)) throw inlineConflict(row, 'cancel');
  const r = await executionStub(env, id).cancel();
  if (!r.ok) throw conflict(`The execution already ended (${r.status})`);
  return getExecution(env, user, id, (await findExecution(env.DB, id)) ?? row);
}

export interface ReplayBody {
  inputs?: Record<string, unknown>;
  node_overrides?: Record<string, { config: Record<string, unknown> }>;
  async?: boolean;
  wait_ms?: number;
}

/**
 * Resumes a failed or cancelled run from where it failed (extension): a new execution with
 * `retry_of` that reuses every finished node's recorded result and runs the rest.
 */
export async function retryExecution(env: Env, user: AuthUser, id: string, body: ReplayBody) {
  const row = await accessibleRow(env, user, id, 'execute');
  return replayExecution(env, user, row, { kind: 'retry', inputs: body.inputs, nodeOverrides: body.node_overrides, waitMs: body.async ? 0 : body.wait_ms });
}

/** Runs a finished run again from one node on (extension): a new execution with `forked_from`. */
export async function forkExecution(env: Env, user: AuthUser, id: string, body: ReplayBody & { from_node_id: string; item_index?: number }) {
  const row = await accessibleRow(env, user, id, 'execute');
  return replayExecution(env, user, row, {
    kind: 'fork',
    fromNodeId: body.from_node_id,
    itemIndex: body.item_index,
    inputs: body.inputs,
    nodeOverrides: body.node_overrides,
    waitMs: body.async ? 0 : body.wait_ms,
  });
}
