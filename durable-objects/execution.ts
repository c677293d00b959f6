import { DurableObject } from 'cloudflare:workers';
import { TERMINAL, type ApprovalResolution, type ExecutionError, type ExecutionSnapshot, type ExecutionStatus, type StartRequest } from './contracts';
import type { Env } from '../src/env';
import type { EngineServices } from '../src/engine/workflow/node';
import type { MirroredLog } from '../src/runs/workflow-run';
import type { RunOutcome } from '../src/engine/workflow/runner';
import type { Graph, LogEntry, NodeState, RunEvent } from '../src/engine/workflow/types';

/** The engine and the run's D1 side, imported when an object first needs them (not at startup). */
const engine = () => import('./execution-engine');
type Engine = Awaited<ReturnType<typeof engine>>;

/**
 * One Execution Durable Object per run. It owns the live state of the run in its SQLite
 * storage: every node's state is written before the run moves on, so an instance that is
 * evicted or restarted resumes from storage (its alarm) and never re-runs a node whose
 * completion was recorded. It mirrors the run to D1 at every rest point (paused, waiting,
 * finished) and pushes events to WebSocket watchers (hibernatable sockets: a waiting run with
 * watchers costs nothing).
 */

interface RunMeta {
  execution_id: string;
  owner_id: string;
  run_as?: string;
  workflow_id: string | null;
  agent_id?: string | null;
  inputs: Record<string, unknown>;
  delegation_depth?: number;
  status: ExecutionStatus;
  pause_requested: boolean;
  outputs: Record<string, unknown> | null;
  error: ExecutionError | null;
  started_at: string | null;
  finished_at: string | null;
}

/** While a run is active its alarm stays armed this far ahead: if the object dies, the alarm resumes it. */
export const HEARTBEAT_MS = 30_000;

const DAY_MS = 86_400_000;
/**
 * How long a finished run's object storage is kept (EXECUTION_STORAGE_RETENTION_DAYS, default 7;
 * 0 deletes it at once). D1 keeps the run's record: reads, retries and forks use that.
 */
export function storageRetentionMs(env: Pick<Env, 'EXECUTION_STORAGE_RETENTION_DAYS'>): number {
  const days = Number(env.EXECUTION_STORAGE_RETENTION_DAYS ?? 7);
  return (Number.isFinite(days) && days >= 0 ? days : 7) * DAY_MS;
}

const TABLES = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS nodes (node_id TEXT PRIMARY KEY, state TEXT NOT NULL, dirty INTEGER NOT NULL DEFAULT 1);
  CREATE TABLE IF NOT EXISTS logs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, node_id TEXT, level TEXT NOT NULL,
    message TEXT NOT NULL, data TEXT, created_at TEXT NOT NULL, flushed INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS resolutions (node_id TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export class Execution extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private active: Promise<void> | null = null;
  private controller: AbortController | null = null;
  private meta: RunMeta | null = null;
  /** The tables exist: made by start(), gone once a finished run's storage is deleted (none: no run here). */
  private stored: boolean;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Tables only for a run: an object woken after its storage was deleted stays empty.
    this.stored = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
    // A fresh instance of a run that was interrupted mid-node (eviction, restart) picks it up on
    // its first wake-up, whatever woke it; the alarm is the fallback when nothing does.
    const run = this.run();
    if (run?.status === 'running' && this.states().some((s) => s.status === 'running')) {
      this.appendLog({ level: 'warn', message: 'Execution resumed from storage after a restart' });
      this.kick();
    }
  }

  // ---------------------------------------------------------------- storage

  private get(key: string): unknown {
    const row = this.sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0];
    return row ? JSON.parse(row.value) : undefined;
  }

  private put(key: string, value: unknown) {
    this.sql.exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', key, JSON.stringify(value));
  }

  private run(): RunMeta | null {
    if (!this.stored) return null;
    this.meta ??= (this.get('run') as RunMeta | undefined) ?? null;
    return this.meta;
  }

  private setRun(patch: Partial<RunMeta>) {
    this.meta = { ...this.run()!, ...patch };
    this.put('run', this.meta);
  }

  private states(): NodeState[] {
    return this.sql.exec<{ state: string }>('SELECT state FROM nodes').toArray().map((r) => JSON.parse(r.state));
  }

  private saveNode(s: NodeState) {
    this.sql.exec('INSERT OR REPLACE INTO nodes (node_id, state, dirty) VALUES (?, ?, 1)', s.node_id, JSON.stringify(s));
  }

  private appendLog(e: LogEntry) {
    this.sql.exec(
      'INSERT INTO logs (id, node_id, level, message, data, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      crypto.randomUUID(),
      e.node_id ?? null,
      e.level,
      e.message,
      e.data === undefined ? null : JSON.stringify(e.data),
      new Date().toISOString(),
    );
  }

  // ---------------------------------------------------------------- RPC surface

  /** Starts the run (idempotent) and waits up to `waitMs` for it to come to rest. */
  async start(req: StartRequest, waitMs = 0): Promise<ExecutionSnapshot> {
    if (!this.run()) {
      this.sql.exec(TABLES);
      this.stored = true;
      this.put('graph', req.graph);
      this.meta = {
        execution_id: req.execution_id,
        owner_id: req.owner_id,
        run_as: req.run_as ?? req.owner_id,
        workflow_id: req.workflow_id,
        agent_id: req.agent_id ?? null,
        inputs: req.inputs,
        delegation_depth: req.delegation_depth ?? 0,
        status: 'running',
        pause_requested: false,
        outputs: null,
        error: null,
        started_at: new Date().toISOString(),
        finished_at: null,
      };
      this.put('run', this.meta);
      // A retry or fork starts with the recorded nodes it reuses: the runner never runs them.
      for (const s of req.reused ?? []) this.saveNode(s);
      this.appendLog({
        level: 'info',
        message: req.lineage?.retry_of ? `Execution started: a retry of ${req.lineage.retry_of}` : req.lineage?.forked_from ? `Execution started: a fork of ${req.lineage.forked_from} from ${req.lineage.from_node_id}${req.lineage.item_index === undefined ? '' : ` (item ${req.lineage.item_index})`}` : 'Execution started',
        data: { inputs: req.inputs, ...(req.lineage ? { ...req.lineage, reused_nodes: (req.reused ?? []).filter((s) => s.reused_from).map((s) => s.node_id) } : {}) },
      });
      this.broadcast({ type: 'execution_started', status: 'running', ...(req.lineage ?? {}) });
      const { recordRunStarted } = await engine();
      await recordRunStarted(this.env.DB, req.execution_id, this.meta.started_at!);
      this.kick();
    }
    return this.settled(waitMs);
  }

  /** The current state; waits up to `waitMs` while the run is active. */
  async settled(waitMs = 0): Promise<ExecutionSnapshot> {
    if (this.active && waitMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.active, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
      clearTimeout(timer);
    }
    return this.snapshot();
  }

  snapshot(): ExecutionSnapshot {
    const run = this.run();
    if (!run) throw new Error('No such execution');
    return {
      execution_id: run.execution_id,
      status: run.status,
      outputs: run.outputs,
      error: run.error,
      started_at: run.started_at,
      finished_at: run.finished_at,
      nodes: this.states(),
    };
  }

  /** Lets running nodes finish and starts no new ones. */
  async pause(): Promise<{ ok: boolean; status: ExecutionStatus }> {
    const run = this.run();
    if (!run || !['running', 'waiting_approval'].includes(run.status)) return { ok: false, status: run?.status ?? 'pending' };
    this.setRun({ pause_requested: true });
    if (!this.active) await this.rest({ status: 'paused' } as RunOutcome);
    else await this.active;
    return { ok: true, status: this.run()!.status };
  }

  async resume(waitMs = 0): Promise<{ ok: boolean; snapshot: ExecutionSnapshot }> {
    const run = this.run();
    if (!run || run.status !== 'paused') return { ok: false, snapshot: this.snapshot() };
    this.setRun({ pause_requested: false, status: 'running' });
    this.appendLog({ level: 'info', message: 'Execution resumed' });
    this.broadcast({ type: 'execution_resumed', status: 'running' });
    this.kick();
    return { ok: true, snapshot: await this.settled(waitMs) };
  }

  async cancel(): Promise<{ ok: boolean; status: ExecutionStatus }> {
    const run = this.run();
    if (!run || TERMINAL.has(run.status)) return { ok: false, status: run?.status ?? 'pending' };
    this.setRun({ pause_requested: false });
    if (this.active) {
      this.controller?.abort();
      await this.active;
    }
    if (!TERMINAL.has(this.run()!.status)) {
      // Nothing was running (paused or waiting): cancel the waiting nodes here.
      for (const s of this.states()) {
        if (s.status === 'waiting' || s.status === 'running' || s.status === 'pending') {
          this.saveNode({ ...s, status: s.status === 'pending' ? 'skipped' : 'cancelled', wait: undefined, finished_at: new Date().toISOString() });
        }
      }
      await this.rest({ status: 'cancelled', outputs: {}, states: this.states(), waits: [], error: { code: 'CANCELLED', message: 'The run was cancelled' } });
    }
    return { ok: true, status: this.run()!.status };
  }

  /** A human decision for a waiting approval node, or a form's values (the service checked who may decide and the values). */
  async decide(nodeId: string, resolution: ApprovalResolution, waitMs = 0) {
    const run = this.run();
    const node = run ? this.states().find((s) => s.node_id === nodeId) : undefined;
    if (!run || TERMINAL.has(run.status) || node?.status !== 'waiting') return { ok: false, snapshot: run ? this.snapshot() : null };
    this.sql.exec('INSERT OR REPLACE INTO resolutions (node_id, value) VALUES (?, ?)', nodeId, JSON.stringify(resolution));
    this.appendLog({ node_id: nodeId, level: 'info', message: resolution.decision === 'submitted' ? `Input submitted by ${resolution.decided_by}` : `Approval ${resolution.decision} by ${resolution.decided_by}`, data: resolution });
    if (run.status === 'waiting_approval') this.setRun({ status: 'running' });
    // A paused run keeps the decision and applies it on resume.
    if (this.run()!.status === 'running') this.kick();
    return { ok: true, snapshot: await this.settled(waitMs) };
  }

  // ---------------------------------------------------------------- driving the run

  private kick(): Promise<void> {
    this.active ??= this.drive().finally(() => {
      this.active = null;
    });
    return this.active;
  }

  private async drive() {
    await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
    const loaded = await engine();
    const graph = this.get('graph') as Graph;
    let outcome: RunOutcome;
    for (;;) {
      const run = this.run()!;
      this.controller = new AbortController();
      const runner = new loaded.GraphRunner({
        env: this.env,
        userId: run.run_as ?? run.owner_id,
        startedBy: run.owner_id,
        executionId: run.execution_id,
        workflowId: run.workflow_id,
        graph,
        inputs: run.inputs,
        delegationDepth: run.delegation_depth ?? 0,
        signal: this.controller.signal,
        services: this.services(run, loaded),
        states: this.states(),
        shouldPause: () => this.run()!.pause_requested,
        hooks: {
          save: (s) => this.saveNode(s),
          log: (e) => this.appendLog(e),
          event: (e) => this.broadcast(e),
        },
      });
      const resolutions = this.sql.exec<{ node_id: string; value: string }>('SELECT node_id, value FROM resolutions').toArray();
      for (const r of resolutions) {
        runner.resumeWait(r.node_id, JSON.parse(r.value));
        this.sql.exec('DELETE FROM resolutions WHERE node_id = ?', r.node_id);
      }
      outcome = await runner.run();
      // A decision that arrived while other branches were still running: go round again.
      const more = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM resolutions').one().n;
      if (!(outcome.status === 'waiting' && more > 0 && !this.run()!.pause_requested)) break;
    }
    await this.rest(outcome);
  }

  /** Records where the run came to rest, arms or clears the alarm, mirrors to D1, tells watchers. */
  private async rest(outcome: RunOutcome) {
    const now = new Date();
    const run = this.run()!;
    let status: ExecutionStatus;
    if (outcome.status === 'waiting') {
      status = outcome.waits.some((w) => w.kind === 'approval') ? 'waiting_approval' : 'running';
    } else {
      status = outcome.status;
    }
    const terminal = TERMINAL.has(status);
    this.setRun({
      status,
      outputs: terminal ? outcome.outputs : run.outputs,
      error: status === 'failed' || status === 'cancelled' ? outcome.error ?? null : null,
      finished_at: terminal ? now.toISOString() : null,
    });
    // Wake for the earliest timed wait (a delay, an approval timeout); otherwise sleep for free.
    // A finished run's alarm is set below, once D1 has it all.
    const until = (outcome.waits ?? []).map((w) => w.until).filter((u): u is number => typeof u === 'number');
    if (!terminal && status !== 'paused' && until.length) await this.ctx.storage.setAlarm(Math.min(...until));
    else await this.ctx.storage.deleteAlarm();

    if (status === 'paused') {
      this.appendLog({ level: 'info', message: 'Execution paused' });
      this.broadcast({ type: 'execution_paused', status });
    } else if (status === 'waiting_approval') {
      this.appendLog({ level: 'info', message: 'Execution is waiting for approval' });
    } else if (terminal) {
      const e = this.run()!.error;
      this.appendLog({ level: status === 'succeeded' ? 'info' : 'error', message: `Execution ${status}${e ? `: ${e.message}` : ''}`, data: e ?? undefined });
    }
    await this.mirror();
    if (terminal) {
      this.broadcast({ type: 'execution_finished', status, outputs: this.run()!.outputs, error: this.run()!.error });
      // The run and its nodes as spans, queued for the OTLP exporters (docs/traces.md).
      const ended = this.run()!;
      const { exportRunTrace, cancelRunApprovals } = await engine();
      await exportRunTrace(this.env, { ...ended, user_id: ended.run_as ?? ended.owner_id }, this.states());
      if (status === 'cancelled') {
        await cancelRunApprovals(this.env.DB, run.execution_id);
      }
      // D1 holds the finished run: the object's storage goes after the retention window.
      await this.ctx.storage.setAlarm(now.getTime() + storageRetentionMs(this.env));
    }
  }

  /** Writes the run, the changed nodes and the new log entries to D1 in one batch (runs/workflow-run.ts). */
  private async mirror() {
    const { mirrorRun } = await engine();
    const dirty = this.sql.exec<{ state: string }>('SELECT state FROM nodes WHERE dirty = 1').toArray().map((r) => JSON.parse(r.state) as NodeState);
    const logs = this.sql
      .exec<MirroredLog>('SELECT seq, id, node_id, level, message, data, created_at FROM logs WHERE flushed = 0 ORDER BY seq')
      .toArray();
    await mirrorRun(this.env.DB, this.run()!, this.states(), dirty, logs);
    this.sql.exec('UPDATE nodes SET dirty = 0');
    if (logs.length) this.sql.exec('UPDATE logs SET flushed = 1 WHERE seq <= ?', logs[logs.length - 1].seq);
  }

  private services(run: RunMeta, { principalServices, requestApproval, notifyOnFeishu }: Engine): EngineServices {
    return {
      ...principalServices(this.env, run.run_as ?? run.owner_id, run.agent_id ?? null, run.delegation_depth ?? 0),
      createApproval: async (req) => {
        const { id, notify } = await requestApproval(this.env.DB, run, req);
        this.broadcast({ type: 'approval_required', node_id: req.node_id, approval_id: id, kind: req.kind ?? 'approval', title: req.title, approver_id: req.approver_id, timeout_at: req.timeout_at });
        // The Feishu message does not hold up the run; a failure goes to its log.
        if (notify) {
          this.ctx.waitUntil(
            notifyOnFeishu(this.env, notify.user_id, notify.text).then((r) => {
              if (r.error) this.appendLog({ node_id: req.node_id, level: 'warn', message: `Feishu notification failed: ${r.error}` });
            }),
          );
        }
        return { approval_id: id };
      },
    };
  }

  // ---------------------------------------------------------------- alarm: resume and timeouts

  override async alarm() {
    const run = this.run();
    if (run && TERMINAL.has(run.status)) return this.expireStorage(run);
    if (!run || run.status === 'paused') return;
    if (this.active) {
      await this.ctx.storage.setAlarm(Date.now() + HEARTBEAT_MS);
      return;
    }
    const now = Date.now();
    for (const s of this.states()) {
      if (s.status !== 'waiting' || !s.wait?.until || s.wait.until > now) continue;
      if (s.wait.kind === 'approval') {
        // Only a still-pending approval times out; a decision that won the race stands.
        const { timeOutApproval } = await engine();
        if (!(await timeOutApproval(this.env.DB, s.wait.approval_id ?? ''))) continue;
        this.appendLog({ node_id: s.node_id, level: 'warn', message: `Approval for ${s.node_id} timed out` });
        this.sql.exec('INSERT OR REPLACE INTO resolutions (node_id, value) VALUES (?, ?)', s.node_id, JSON.stringify({ decision: 'timeout', comment: null, decided_by: null }));
      } else {
        this.sql.exec('INSERT OR REPLACE INTO resolutions (node_id, value) VALUES (?, ?)', s.node_id, JSON.stringify({ elapsed: true }));
      }
    }
    const due = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM resolutions').one().n;
    if (run.status === 'running' || due > 0) {
      if (run.status === 'waiting_approval') this.setRun({ status: 'running' });
      if (run.status === 'running' && !due && this.states().some((st) => st.status === 'running')) {
        this.appendLog({ level: 'warn', message: 'Execution resumed from storage after a restart' });
      }
      await this.kick();
    }
  }

  /**
   * A finished run's alarm: its retention window is over, so its storage goes (D1 keeps the run,
   * its nodes and its log; GET, retry and fork read those). Watchers are told and closed.
   */
  private async expireStorage(run: RunMeta) {
    await this.active;
    const due = Date.parse(run.finished_at ?? '') + storageRetentionMs(this.env);
    if (Number.isFinite(due) && due > Date.now()) return void (await this.ctx.storage.setAlarm(due));
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1000, 'The run finished; its live state was deleted');
      } catch {
        /* already closed */
      }
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.meta = null;
    this.stored = false;
  }

  // ---------------------------------------------------------------- WebSocket watchers

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return Response.json({ error: 'UPGRADE_REQUIRED', message: 'Expected a WebSocket upgrade' }, { status: 426 });
    }
    // No run here (its storage was deleted): the caller answers from D1.
    if (!this.run()) return Response.json({ error: 'NOT_FOUND', message: 'No live state for this execution' }, { status: 404 });
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    this.ctx.acceptWebSocket(server);
    server.send(JSON.stringify({ type: 'snapshot', ...this.snapshot() }));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer) {
    if (message === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
    else if (message === 'snapshot') ws.send(JSON.stringify({ type: 'snapshot', ...this.snapshot() }));
  }

  override async webSocketClose(ws: WebSocket, code: number) {
    try {
      ws.close(code === 1005 ? 1000 : code, 'closing');
    } catch {
      /* already closed */
    }
  }

  private broadcast(event: RunEvent | { type: string; [k: string]: unknown }) {
    const sockets = this.ctx.getWebSockets();
    if (!sockets.length) return;
    const run = this.run();
    const message = JSON.stringify({ ...event, execution_id: run?.execution_id, ts: new Date().toISOString() });
    for (const ws of sockets) {
      try {
        ws.send(message);
      } catch {
        /* a watcher that went away */
      }
    }
  }
}
