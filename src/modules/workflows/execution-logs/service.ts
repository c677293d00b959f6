import type { Env } from '../../../env';
import type { CallRecord, Graph } from '../../../engine/workflow/types';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { accessibleRow, executionFilter } from '../executions/service';
import type { CallNode } from './schemas';

type LogRow = { id: string; execution_id: string; seq: number; node_id: string | null; level: 'debug' | 'info' | 'warn' | 'error'; message: string; data: string | null; created_at: string };
type NodeRow = { node_id: string; node_type: string; status: string; duration_ms: number | null; started_at: string | null; calls: string; error: string | null; total_tokens: number; label: string | null };

const LOG_COLUMNS = 'id, execution_id, seq, node_id, level, message, data, created_at';
const toLog = (r: LogRow) => ({ ...r, data: r.data === null ? null : JSON.parse(r.data) });
const iso = (s: string) => new Date(s).toISOString();

/**
 * The log entries of executions the user may read (authorizeExecution): their own runs' entries
 * and those of runs of workflows and agents they may read. Null: nothing is filtered.
 */
async function readableLogs(env: Env, user: AuthUser): Promise<{ sql: string; binds: unknown[] } | null> {
  const runs = await executionFilter(env, user, 'e.');
  if (!runs) return null;
  return { sql: `(owner_id = ? OR execution_id IN (SELECT e.id FROM executions e WHERE ${runs.sql}))`, binds: [user.id, ...runs.binds] };
}

export async function list(env: Env, user: AuthUser, q: Pagination & { execution_id?: string; node_id?: string; level?: string; search?: string; since?: string; until?: string }) {
  const where: string[] = [];
  const args: unknown[] = [];
  const readable = await readableLogs(env, user);
  if (readable) (where.push(readable.sql), args.push(...readable.binds));
  if (q.execution_id) (where.push('execution_id = ?'), args.push(q.execution_id));
  if (q.node_id) (where.push('node_id = ?'), args.push(q.node_id));
  if (q.level) (where.push('level = ?'), args.push(q.level));
  if (q.search) (where.push("message LIKE ? ESCAPE '\\'"), args.push(`%${q.search.replace(/[\\%_]/g, (m) => '\\' + m)}%`));
  if (q.since) (where.push('created_at >= ?'), args.push(iso(q.since)));
  if (q.until) (where.push('created_at <= ?'), args.push(iso(q.until)));
  const clause = where.join(' AND ') || '1';
  const { limit, offset } = pageBounds(q);
  const [count, rows] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT count(*) AS n FROM execution_logs WHERE ${clause}`).bind(...args),
    env.DB.prepare(`SELECT ${LOG_COLUMNS} FROM execution_logs WHERE ${clause} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?`).bind(...args, limit, offset),
  ]);
  return paginated((rows.results as unknown as LogRow[]).map(toLog), (count.results[0] as { n: number }).n, q);
}

export async function get(env: Env, user: AuthUser, id: string) {
  const row = await env.DB.prepare(`SELECT ${LOG_COLUMNS}, owner_id FROM execution_logs WHERE id = ?`).bind(id).first<LogRow & { owner_id: string }>();
  if (!row) throw notFound('Log entry');
  // An entry is as readable as its execution; anyone else learns nothing about it.
  if (row.owner_id !== user.id) {
    try {
      await accessibleRow(env, user, row.execution_id, 'read');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw notFound('Log entry');
      throw e;
    }
  }
  const { owner_id: _owner, ...entry } = row;
  return toLog(entry);
}

export async function fullLog(env: Env, user: AuthUser, executionId: string) {
  const exec = await accessibleRow(env, user, executionId, 'read');
  const rows = await env.DB.prepare(`SELECT ${LOG_COLUMNS} FROM execution_logs WHERE execution_id = ? ORDER BY seq`).bind(executionId).all<LogRow>();
  return { execution_id: executionId, status: exec.status, items: rows.results.map(toLog) };
}

async function nodesOf(env: Env, executionId: string) {
  return (
    await env.DB.prepare(
      'SELECT node_id, node_type, label, status, duration_ms, started_at, calls, error, total_tokens FROM execution_nodes WHERE execution_id = ? ORDER BY started_at IS NULL, started_at, node_id',
    )
      .bind(executionId)
      .all<NodeRow>()
  ).results;
}

/** Per-node durations, the slowest nodes and the critical path (the longest chain of executed nodes). */
export async function performance(env: Env, user: AuthUser, executionId: string) {
  const exec = await accessibleRow(env, user, executionId, 'read');
  const nodes = (await nodesOf(env, executionId)).filter((n) => n.status !== 'skipped' && n.status !== 'pending');
  const total = nodes.reduce((s, n) => s + (n.duration_ms ?? 0), 0);
  const timings = nodes.map((n) => ({
    node_id: n.node_id,
    node_type: n.node_type,
    status: n.status,
    duration_ms: n.duration_ms ?? 0,
    share: total ? Math.round(((n.duration_ms ?? 0) / total) * 1000) / 1000 : 0,
  }));
  const graph: Graph = exec.graph ? JSON.parse(exec.graph) : { nodes: [], edges: [] };
  const critical = criticalPath(graph, new Map(timings.map((t) => [t.node_id, t.duration_ms])));
  return {
    execution_id: executionId,
    status: exec.status,
    total_duration_ms: exec.duration_ms,
    node_count: timings.length,
    nodes_duration_ms: total,
    nodes: timings,
    slowest: [...timings].sort((a, b) => b.duration_ms - a.duration_ms).slice(0, 5),
    critical_path: critical,
    overhead_ms: exec.duration_ms === null ? null : Math.max(0, exec.duration_ms - critical.duration_ms),
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
    name: exec.workflow_id ? `workflow ${exec.workflow_id}` : 'execution',
    status: exec.status,
    duration_ms: exec.duration_ms,
    started_at: exec.started_at,
    usage: { prompt_tokens: exec.prompt_tokens, completion_tokens: exec.completion_tokens, total_tokens: exec.total_tokens },
    children: nodes.map((n) => ({
      type: 'node',
      id: n.node_id,
      name: `${n.node_type}${n.label ? ` (${n.label})` : ''}`,
      status: n.status,
      duration_ms: n.duration_ms,
      started_at: n.started_at,
      usage: { total_tokens: n.total_tokens },
      error: n.error ? (JSON.parse(n.error) as { message: string }).message : null,
      children: (JSON.parse(n.calls) as CallRecord[]).map((c, i) => fromCall(c, i, n.node_id)),
    })),
  };
  return { execution_id: executionId, tree };
}

/** Executions `e` the user may read (see authorizeExecution), narrowed to a workflow and a time window. */
async function windowClause(env: Env, user: AuthUser, q: { workflow_id?: string; since?: string; until?: string }, alias = 'e') {
  const where: string[] = [];
  const args: unknown[] = [];
  const readable = await executionFilter(env, user, `${alias}.`);
  if (readable) (where.push(readable.sql), args.push(...readable.binds));
  if (q.workflow_id) (where.push(`${alias}.workflow_id = ?`), args.push(q.workflow_id));
  if (q.since) (where.push(`${alias}.created_at >= ?`), args.push(iso(q.since)));
  if (q.until) (where.push(`${alias}.created_at <= ?`), args.push(iso(q.until)));
  return { where: where.join(' AND ') || '1', args };
}

export async function errorSummary(env: Env, user: AuthUser, q: { workflow_id?: string; since?: string; until?: string }) {
  const { where, args: a } = await windowClause(env, user, q);
  const failedNodes = `FROM execution_nodes n JOIN executions e ON e.id = n.execution_id WHERE ${where} AND n.status = 'failed'`;
  const [execs, codes, types, recent] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT count(*) AS n FROM executions e WHERE ${where} AND e.status = 'failed'`).bind(...a),
    env.DB.prepare(
      `SELECT json_extract(n.error, '$.code') AS code, count(*) AS count, max(n.finished_at) AS last_seen, max(json_extract(n.error, '$.message')) AS sample_message
       ${failedNodes} GROUP BY code ORDER BY count DESC LIMIT 50`,
    ).bind(...a),
    env.DB.prepare(`SELECT n.node_type, count(*) AS count ${failedNodes} GROUP BY n.node_type ORDER BY count DESC`).bind(...a),
    env.DB.prepare(
      `SELECT n.execution_id, n.node_id, n.node_type, json_extract(n.error, '$.code') AS code, json_extract(n.error, '$.message') AS message, n.finished_at
       ${failedNodes} ORDER BY n.finished_at DESC LIMIT 20`,
    ).bind(...a),
  ]);
  const byCode = codes.results as Array<{ code: string | null; count: number; last_seen: string | null; sample_message: string | null }>;
  return {
    failed_executions: (execs.results[0] as { n: number }).n,
    failed_nodes: byCode.reduce((s, r) => s + r.count, 0),
    by_code: byCode.map((r) => ({ code: r.code ?? 'UNKNOWN', count: r.count, last_seen: r.last_seen, sample_message: r.sample_message ?? '' })),
    by_node_type: types.results as Array<{ node_type: string; count: number }>,
    recent: (recent.results as Array<{ execution_id: string; node_id: string; node_type: string; code: string | null; message: string | null; finished_at: string | null }>).map(
      (r) => ({ ...r, code: r.code ?? 'UNKNOWN', message: r.message ?? '' }),
    ),
  };
}

export async function stats(env: Env, user: AuthUser, q: { workflow_id?: string; since?: string; until?: string }) {
  const { where, args: a } = await windowClause(env, user, q);
  const [status, agg, levels, types] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT e.status, count(*) AS n FROM executions e WHERE ${where} GROUP BY e.status`).bind(...a),
    env.DB.prepare(`SELECT avg(e.duration_ms) AS avg_ms, coalesce(sum(e.total_tokens), 0) AS tokens FROM executions e WHERE ${where} AND e.finished_at IS NOT NULL`).bind(...a),
    env.DB.prepare(`SELECT l.level, count(*) AS n FROM execution_logs l JOIN executions e ON e.id = l.execution_id WHERE ${where} GROUP BY l.level`).bind(...a),
    env.DB.prepare(
      `SELECT n.node_type, count(*) AS runs, sum(n.status = 'failed') AS failures, avg(n.duration_ms) AS avg_ms
       FROM execution_nodes n JOIN executions e ON e.id = n.execution_id WHERE ${where} AND n.status != 'skipped' GROUP BY n.node_type ORDER BY runs DESC`,
    ).bind(...a),
  ]);
  const byStatus = Object.fromEntries((status.results as Array<{ status: string; n: number }>).map((r) => [r.status, r.n]));
  const totalExecs = Object.values(byStatus).reduce((s, n) => s + n, 0);
  const finished = (byStatus.succeeded ?? 0) + (byStatus.failed ?? 0) + (byStatus.cancelled ?? 0);
  const byLevel = Object.fromEntries((levels.results as Array<{ level: string; n: number }>).map((r) => [r.level, r.n]));
  const ag = agg.results[0] as { avg_ms: number | null; tokens: number };
  return {
    executions: { total: totalExecs, by_status: byStatus },
    avg_duration_ms: ag.avg_ms === null ? null : Math.round(ag.avg_ms),
    success_rate: finished ? Math.round(((byStatus.succeeded ?? 0) / finished) * 1000) / 1000 : null,
    total_tokens: ag.tokens,
    logs: { total: Object.values(byLevel).reduce((s, n) => s + n, 0), by_level: byLevel },
    node_types: (types.results as Array<{ node_type: string; runs: number; failures: number; avg_ms: number | null }>).map((r) => ({
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
  const res = await env.DB.prepare('DELETE FROM execution_logs WHERE owner_id = ? AND created_at < ?').bind(user.id, cutoff).run();
  return { deleted: res.meta.changes };
}
