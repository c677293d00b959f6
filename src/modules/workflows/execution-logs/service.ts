import { db } from '../../../db/client';
import type { Env } from '../../../env';
import type { CallRecord, Graph } from '../../../engine/workflow/types';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { accessibleRow, executionFilter } from '../executions/service';
import { errorSummaryQueries, nodeTimings, runsWhere, statsQueries } from '../executions/store';
import type { CallNode } from './schemas';
import { deleteLogsBefore, findLog, levelCountsQuery, listLogs, logsOf, readableLogsWhere, type ShownLog } from './store';

const toLog = (r: ShownLog) => ({
  id: r.id,
  execution_id: r.executionId,
  seq: r.seq,
  node_id: r.nodeId,
  level: r.level,
  message: r.message,
  data: r.data === null ? null : JSON.parse(r.data),
  created_at: r.createdAt,
});
const iso = (s: string) => new Date(s).toISOString();

/**
 * The log entries of executions the user may read (authorizeExecution): their own runs' entries
 * and those of runs of workflows and agents they may read. Undefined: nothing is filtered.
 */
async function readableLogs(env: Env, user: AuthUser) {
  return readableLogsWhere(env.DB, user.id, await executionFilter(env, user));
}

export async function list(env: Env, user: AuthUser, q: Pagination & { execution_id?: string; node_id?: string; level?: string; search?: string; since?: string; until?: string }) {
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await listLogs(env.DB, {
    readable: await readableLogs(env, user),
    executionId: q.execution_id,
    nodeId: q.node_id,
    level: q.level,
    search: q.search,
    since: q.since ? iso(q.since) : undefined,
    until: q.until ? iso(q.until) : undefined,
    limit,
    offset,
  });
  return paginated(rows.map(toLog), total, q);
}

export async function get(env: Env, user: AuthUser, id: string) {
  const row = await findLog(env.DB, id);
  if (!row) throw notFound('Log entry');
  // An entry is as readable as its execution; anyone else learns nothing about it.
  if (row.ownerId !== user.id) {
    try {
      await accessibleRow(env, user, row.executionId, 'read');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw notFound('Log entry');
      throw e;
    }
  }
  const { ownerId: _owner, ...entry } = row;
  return toLog(entry);
}

export async function fullLog(env: Env, user: AuthUser, executionId: string) {
  const exec = await accessibleRow(env, user, executionId, 'read');
  const rows = await logsOf(env.DB, executionId);
  return { execution_id: executionId, status: exec.status, items: rows.map(toLog) };
}

async function nodesOf(env: Env, executionId: string) {
  return nodeTimings(env.DB, executionId);
}

/** Per-node durations, the slowest nodes and the critical path (the longest chain of executed nodes). */
export async function performance(env: Env, user: AuthUser, executionId: string) {
  const exec = await accessibleRow(env, user, executionId, 'read');
  const nodes = (await nodesOf(env, executionId)).filter((n) => n.status !== 'skipped' && n.status !== 'pending');
  const total = nodes.reduce((s, n) => s + (n.durationMs ?? 0), 0);
  const timings = nodes.map((n) => ({
    node_id: n.nodeId,
    node_type: n.nodeType,
    status: n.status,
    duration_ms: n.durationMs ?? 0,
    share: total ? Math.round(((n.durationMs ?? 0) / total) * 1000) / 1000 : 0,
  }));
  const graph: Graph = exec.graph ? JSON.parse(exec.graph) : { nodes: [], edges: [] };
  const critical = criticalPath(graph, new Map(timings.map((t) => [t.node_id, t.duration_ms])));
  return {
    execution_id: executionId,
    status: exec.status,
    total_duration_ms: exec.durationMs,
    node_count: timings.length,
    nodes_duration_ms: total,
    nodes: timings,
    slowest: [...timings].sort((a, b) => b.duration_ms - a.duration_ms).slice(0, 5),
    critical_path: critical,
    overhead_ms: exec.durationMs === null ? null : Math.max(0, exec.durationMs - critical.duration_ms),
  };
}

/** Longest path by duration over the executed nodes of an acyclic graph. */
export function criticalPath(graph: Graph, durations: Map<string, number>) {
  const preds = new Map<string, string[]>();
  for (const e of graph.edges) {
    if (durations.has(e.source) && durations.has(e.target)) preds.set(e.target, [...(preds.get(e.target) ?? []), e.source]);
  }
  const best = new Map<string, { total: number; path: string[] }>();
  const visit = (id: string, depth = 0): { total: number; path: string[] } => {
    const known = best.get(id);
    if (known) return known;
    let top = { total: 0, path: [] as string[] };
    if (depth < 1000) {
      for (const p of preds.get(id) ?? []) {
        const r = visit(p, depth + 1);
        if (r.total > top.total || (top.path.length === 0 && r.path.length)) top = r;
      }
    }
    const r = { total: top.total + (durations.get(id) ?? 0), path: [...top.path, id] };
    best.set(id, r);
    return r;
  };
  let winner = { total: 0, path: [] as string[] };
  for (const id of durations.keys()) {
    const r = visit(id);
    if (r.total > winner.total || (r.total === winner.total && r.path.length > winner.path.length)) winner = r;
  }
  return { node_ids: winner.path, duration_ms: winner.total };
}

/** The execution → nodes → model/tool/http/sub-workflow calls, as a tree. */
export async function callChain(env: Env, user: AuthUser, executionId: string) {
  const exec = await accessibleRow(env, user, executionId, 'read');
  const nodes = await nodesOf(env, executionId);
  const fromCall = (c: CallRecord, i: number, parent: string): CallNode => ({
    type: c.kind,
    id: `${parent}.${i}`,
    name: c.name,
    status: c.status,
    duration_ms: c.duration_ms,
    started_at: c.started_at,
    usage: c.usage,
    error: c.error ?? null,
    children: (c.children ?? []).map((child, j) => fromCall(child, j, `${parent}.${i}`)),
  });
  const tree: CallNode = {
    type: 'execution',
    id: executionId,
    name: exec.workflowId ? `workflow ${exec.workflowId}` : 'execution',
    status: exec.status,
    duration_ms: exec.durationMs,
    started_at: exec.startedAt,
    usage: { prompt_tokens: exec.promptTokens, completion_tokens: exec.completionTokens, total_tokens: exec.totalTokens },
    children: nodes.map((n) => ({
      type: 'node',
      id: n.nodeId,
      name: `${n.nodeType}${n.label ? ` (${n.label})` : ''}`,
      status: n.status,
      duration_ms: n.durationMs,
      started_at: n.startedAt,
      usage: { total_tokens: n.totalTokens },
      error: n.error ? (JSON.parse(n.error) as { message: string }).message : null,
      children: (JSON.parse(n.calls) as CallRecord[]).map((c, i) => fromCall(c, i, n.nodeId)),
    })),
  };
  return { execution_id: executionId, tree };
}

/** Executions the user may read (see authorizeExecution), narrowed to a workflow and a time window. */
async function windowWhere(env: Env, user: AuthUser, q: { workflow_id?: string; since?: string; until?: string }) {
  return runsWhere({
    readable: await executionFilter(env, user),
    workflowId: q.workflow_id,
    since: q.since ? iso(q.since) : undefined,
    until: q.until ? iso(q.until) : undefined,
  });
}

export async function errorSummary(env: Env, user: AuthUser, q: { workflow_id?: string; since?: string; until?: string }) {
  const where = await windowWhere(env, user, q);
  const [execs, codes, types, recent] = await db(env.DB).batch(errorSummaryQueries(env.DB, where));
  const byCode = codes;
  return {
    failed_executions: execs[0].n,
    failed_nodes: byCode.reduce((s, r) => s + r.count, 0),
    by_code: byCode.map((r) => ({ code: r.code ?? 'UNKNOWN', count: r.count, last_seen: r.last_seen, sample_message: r.sample_message ?? '' })),
    by_node_type: types,
    recent: recent.map(
      (r) => ({ ...r, code: r.code ?? 'UNKNOWN', message: r.message ?? '' }),
    ),
  };
}

export async function stats(env: Env, user: AuthUser, q: { workflow_id?: string; since?: string; until?: string }) {
  const where = await windowWhere(env, user, q);
  const [status, agg, types] = statsQueries(env.DB, where);
  const [statusRows, [ag], levels, typeRows] = await db(env.DB).batch([status, agg, levelCountsQuery(env.DB, where), types]);
  const byStatus: Record<string, number> = Object.fromEntries(statusRows.map((r) => [r.status, r.n]));
  const totalExecs = Object.values(byStatus).reduce((s, n) => s + n, 0);
  const finished = (byStatus.succeeded ?? 0) + (byStatus.failed ?? 0) + (byStatus.cancelled ?? 0);
  const byLevel: Record<string, number> = Object.fromEntries(levels.map((r) => [r.level, r.n]));
  return {
    executions: { total: totalExecs, by_status: byStatus },
    avg_duration_ms: ag.avg_ms === null ? null : Math.round(ag.avg_ms),
    success_rate: finished ? Math.round(((byStatus.succeeded ?? 0) / finished) * 1000) / 1000 : null,
    total_tokens: ag.tokens,
    logs: { total: Object.values(byLevel).reduce((s, n) => s + n, 0), by_level: byLevel },
    node_types: typeRows.map((r) => ({
      node_type: r.node_type,
      runs: r.runs,
      failures: r.failures,
      avg_duration_ms: r.avg_ms === null ? null : Math.round(r.avg_ms),
    })),
  };
}

/** Deletes my log entries older than N days. */
export async function deleteOld(env: Env, user: AuthUser, olderThanDays: number) {
  const cutoff = new Date(Date.now() - olderThanDays * 86400_000).toISOString();
  return { deleted: await deleteLogsBefore(env.DB, user.id, cutoff) };
}
