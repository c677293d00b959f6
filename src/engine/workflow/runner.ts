import type { Env } from '../../env';
import { addUsage, emptyUsage, type Usage } from '../llm/types';
import { nodeTypes } from './nodes';
import { abortableSleep, toNodeError } from './nodes/helpers';
import { applyInputDefaults } from './inputs';
import { type EngineServices, type NodeContext, type SubRunResult } from './node';
import {
  DEFAULT_PORT,
  ERROR_PORT,
  type EdgeDef,
  type Graph,
  type LogEntry,
  type NodeDef,
  type NodeState,
  type RunEvent,
  type WaitInfo,
} from './types';
import { parseConfig, validateGraph } from './validate';
import { resolveDeep, type Scope } from './variables';

/** Where a run reports what happens; the Execution DO persists and broadcasts these. */
export interface RunHooks {
  /** A node's state changed; called before the run moves on (the durability point). */
  save?(state: NodeState): void;
  event?(event: RunEvent): void;
  log?(entry: LogEntry): void;
}

export interface RunInit {
  env: Env;
  /** Whose rights the run uses (model calls and tools are theirs). */
  userId: string;
  /** Who started the run (`sys.user_id`); defaults to userId. */
  startedBy?: string;
  executionId: string;
  workflowId: string | null;
  graph: Graph;
  inputs: Record<string, unknown>;
  /** Variables visible from outside (a loop body sees the nodes upstream of its loop). */
  outerScope?: Scope;
  nested?: boolean;
  depth?: number;
  /** Delegation depth of the run (a run started by run_workflow is one deeper than its caller). */
  delegationDepth?: number;
  signal: AbortSignal;
  services: EngineServices;
  /** Recorded node states of an interrupted or suspended run. */
  states?: NodeState[];
  hooks?: RunHooks;
  /** Checked before each new node starts: true lets running nodes finish and starts no more. */
  shouldPause?: () => boolean;
}

export type RunStatus = 'succeeded' | 'failed' | 'cancelled' | 'paused' | 'waiting';

export interface RunOutcome {
  status: RunStatus;
  outputs: Record<string, unknown>;
  error?: { code: string; message: string; node_id?: string };
  states: NodeState[];
  /** The waits that hold a `waiting` run. */
  waits: Array<{ node_id: string } & WaitInfo>;
}

type NodeExecution =
  | { kind: 'done'; status: 'succeeded' | 'failed' | 'cancelled'; output?: Record<string, unknown>; branch?: string; error?: { code: string; message: string }; handled?: boolean }
  | { kind: 'wait'; wait: WaitInfo };

const DONE = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

export function newNodeState(node: NodeDef): NodeState {
  return { node_id: node.id, type: node.type, label: node.label, status: 'pending', attempts: 0, calls: [], usage: emptyUsage() };
}

export function backoffMs(node: NodeDef, attempt: number): number {
  const base = node.retry?.backoff_ms ?? 0;
  return node.retry?.backoff === 'exponential' ? base * 2 ** (attempt - 1) : base;
}

/**
 * Whether a run of this graph may suspend (wait for a person, a long delay): true when a top-level
 * node's type can (it has `resume`, and its `suspends` does not rule it out for this config).
 * Nested bodies never suspend (their nodes run in memory), so only the top level counts.
 */
export function canSuspend(graph: Graph): boolean {
  return graph.nodes.some((node) => {
    const type = nodeTypes[node.type];
    if (!type?.resume) return false;
    if (!type.suspends) return true;
    const parsed = parseConfig(node);
    return !parsed.ok || type.suspends(parsed.config);
  });
}

/**
 * Runs a graph: every node whose incoming edges are decided starts at once (independent
 * branches run concurrently); a node runs when at least one incoming edge was taken and is
 * skipped when none was (branches not taken die out, joins wait for all live branches).
 */
export class GraphRunner {
  readonly states = new Map<string, NodeState>();
  private readonly nodes = new Map<string, NodeDef>();
  private readonly incoming = new Map<string, EdgeDef[]>();
  private readonly inflight = new Set<string>();
  private readonly scope: Scope;
  private failure: { code: string; message: string; node_id?: string } | null = null;
  private settle: (() => void) | null = null;
  private order = 0;

  constructor(private readonly init: RunInit) {
    for (const n of init.graph.nodes) this.nodes.set(n.id, n);
    for (const e of init.graph.edges) this.incoming.set(e.target, [...(this.incoming.get(e.target) ?? []), e]);
    const prior = new Map((init.states ?? []).map((s) => [s.node_id, s]));
    for (const n of init.graph.nodes) this.states.set(n.id, prior.get(n.id) ?? newNodeState(n));
    this.scope = {
      ...(init.outerScope ?? {}),
      inputs: init.inputs,
      sys: { user_id: init.startedBy ?? init.userId, execution_id: init.executionId, workflow_id: init.workflowId, timestamp: new Date().toISOString() },
      vars: { ...((init.outerScope?.vars as Record<string, unknown>) ?? {}) },
    };
    // Rebuild the variables of recorded nodes, in the order they finished.
    const finished = [...this.states.values()].filter((s) => s.seq !== undefined).sort((a, b) => a.seq! - b.seq!);
    for (const s of finished) this.publish(s);
    this.order = finished.length ? finished[finished.length - 1].seq! : 0;
  }

  private publish(s: NodeState) {
    if (s.status === 'succeeded' || (s.status === 'failed' && s.branch === ERROR_PORT)) {
      this.scope[s.node_id] = s.output ?? {};
      if (s.type === 'variable_assigner' && s.status === 'succeeded') Object.assign(this.scope.vars as object, s.output);
    }
  }

  private log(entry: LogEntry) {
    this.init.hooks?.log?.(entry);
  }

  private save(s: NodeState) {
    this.init.hooks?.save?.(s);
  }

  async run(): Promise<RunOutcome> {
    for (const s of this.states.values()) {
      if (s.status === 'running') {
        // Started but never recorded as finished: the object went away mid-node. Run it again.
        s.status = 'pending';
        this.save(s);
        this.log({ node_id: s.node_id, level: 'warn', message: `Node ${s.node_id} was interrupted by a restart; running it again` });
      }
    }
    await new Promise<void>((resolve) => {
      this.settle = resolve;
      this.pump();
    });
    return this.outcome();
  }

  private pump() {
    const stop = this.failure !== null || this.init.signal.aborted || (this.init.shouldPause?.() ?? false);
    if (!stop) {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (const node of this.init.graph.nodes) {
          const st = this.states.get(node.id)!;
          if (st.status !== 'pending' || this.inflight.has(node.id)) continue;
          const r = this.readiness(node);
          if (r === 'skip') {
            st.status = 'skipped';
            st.finished_at = new Date().toISOString();
            this.save(st);
            this.init.hooks?.event?.({ type: 'node_finished', node_id: node.id, node_type: node.type, status: 'skipped' });
            progressed = true;
          } else if (r === 'ready') {
            this.launch(node);
          }
        }
      }
    }
    if (this.inflight.size === 0 && this.settle) {
      const s = this.settle;
      this.settle = null;
      s();
    }
  }

  private readiness(node: NodeDef): 'ready' | 'wait' | 'skip' {
    const inc = this.incoming.get(node.id);
    if (!inc?.length) return node.type === 'start' ? 'ready' : 'skip';
    let taken = false;
    for (const e of inc) {
      const s = this.states.get(e.source);
      if (!s) continue;
      if (!DONE.has(s.status)) return 'wait';
      const live = s.status === 'succeeded' || (s.status === 'failed' && s.branch === ERROR_PORT);
      if (live && (e.source_handle ?? DEFAULT_PORT) === (s.branch ?? DEFAULT_PORT)) taken = true;
    }
    return taken ? 'ready' : 'skip';
  }

  private launch(node: NodeDef) {
    this.inflight.add(node.id);
    this.execute(node)
      .catch((e) => {
        // An engine fault (not a node's failure): fail the run rather than hang it.
        this.failure ??= { code: 'INTERNAL_ERROR', message: String((e as Error)?.message ?? e), node_id: node.id };
      })
      .finally(() => {
        this.inflight.delete(node.id);
        this.pump();
      });
  }

  /** Runs one node regardless of its edges (single-node debugging uses this). */
  async execute(node: NodeDef) {
    const st = this.states.get(node.id)!;
    const now = Date.now();
    st.status = 'running';
    st.started_at = new Date(now).toISOString();
    st.started_ms ??= now;
    st.error = undefined;
    this.save(st);
    this.init.hooks?.event?.({ type: 'node_started', node_id: node.id, node_type: node.type, attempt: st.attempts + 1 });
    const result = await this.executeNode(node, st);
    if (result.kind === 'wait') {
      st.status = 'waiting';
      st.wait = result.wait;
      this.save(st);
      this.log({ node_id: node.id, level: 'info', message: `Node ${node.id} is waiting (${result.wait.kind})`, data: result.wait });
      return;
    }
    this.finish(node, st, result);
  }

  private finish(node: NodeDef, st: NodeState, r: Extract<NodeExecution, { kind: 'done' }>) {
    st.status = r.status;
    st.output = r.output;
    st.branch = r.branch;
    st.error = r.error;
    st.wait = undefined;
    const end = Date.now();
    st.finished_at = new Date(end).toISOString();
    st.seq = ++this.order;
    st.duration_ms = st.started_at ? end - Date.parse(st.started_at) : 0;
    this.save(st);
    this.publish(st);
    this.init.hooks?.event?.({
      type: 'node_finished',
      node_id: node.id,
      node_type: node.type,
      status: st.status,
      branch: st.branch,
      duration_ms: st.duration_ms,
      output: st.output,
      error: st.error,
    });
    if (r.status === 'succeeded') {
      this.log({ node_id: node.id, level: r.error ? 'warn' : 'info', message: r.error ? `Node ${node.id} failed; used its default value` : `Node ${node.id} succeeded`, data: { duration_ms: st.duration_ms, branch: st.branch, error: r.error } });
    } else if (r.status === 'failed') {
      this.log({ node_id: node.id, level: 'error', message: `Node ${node.id} failed: ${r.error?.message}`, data: { code: r.error?.code, handled: !!r.handled } });
      if (!r.handled) this.failure ??= { ...(r.error ?? { code: 'NODE_ERROR', message: 'failed' }), node_id: node.id };
    }
  }

  /** Finishes a suspended node with its resolution (a decision, an elapsed delay); then call run(). */
  resumeWait(nodeId: string, resolution: Record<string, unknown>) {
    const node = this.nodes.get(nodeId);
    const st = this.states.get(nodeId);
    if (!node || !st || st.status !== 'waiting') return false;
    const type = nodeTypes[node.type];
    const parsed = parseConfig(node);
    if (!type?.resume || !parsed.ok) return false;
    let r: ReturnType<NonNullable<typeof type.resume>>;
    try {
      r = type.resume(this.context(node, st, this.init.signal), parsed.config, resolution);
    } catch (e) {
      // A resolution that fails the node (a form nobody filled in): its error strategy applies.
      const ne = toNodeError(e);
      st.attempts++;
      this.finish(node, st, this.onFailure(node, { code: ne.code, message: ne.message }) as Extract<NodeExecution, { kind: 'done' }>);
      return true;
    }
    if ('wait' in r) return false;
    this.finish(node, st, { kind: 'done', status: 'succeeded', output: r.output, branch: r.branch });
    return true;
  }

  private outcome(): RunOutcome {
    const states = [...this.states.values()];
    const waits = states.filter((s) => s.status === 'waiting' && s.wait).map((s) => ({ node_id: s.node_id, ...s.wait! }));
    const base = { states, waits, outputs: {} as Record<string, unknown> };
    if (this.init.signal.aborted) return { ...base, status: 'cancelled', error: { code: 'CANCELLED', message: 'The run was cancelled' } };
    if (this.failure) return { ...base, status: 'failed', error: this.failure };
    if (waits.length) return { ...base, status: 'waiting' };
    if (states.some((s) => s.status === 'pending')) {
      if (this.init.shouldPause?.()) return { ...base, status: 'paused' };
      return { ...base, status: 'failed', error: { code: 'DEADLOCK', message: 'Nodes remain that can never run; validate the graph' } };
    }
    const outputs: Record<string, unknown> = {};
    const terminals = states
      .filter((s) => s.status === 'succeeded' && nodeTypes[s.type]?.terminal)
      .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    for (const s of terminals) Object.assign(outputs, s.output);
    return { ...base, status: 'succeeded', outputs };
  }

  private context(node: NodeDef, st: NodeState, signal: AbortSignal): NodeContext {
    const init = this.init;
    return {
      env: init.env,
      userId: init.userId,
      executionId: init.executionId,
      workflowId: init.workflowId,
      node,
      scope: this.scope,
      signal,
      nested: init.nested ?? false,
      depth: init.depth ?? 0,
      delegationDepth: init.delegationDepth ?? 0,
      startedMs: st.started_ms ?? Date.now(),
      services: init.services,
      replay: st.replay,
      log: (level, message, data) => this.log({ node_id: node.id, level, message, data }),
      recordCall: (call) => st.calls.push(call),
      addUsage: (u) => addUsage(st.usage, u),
      runGraph: (graph, inputs, opts) => this.runNested(graph, inputs, signal, node, opts),
      upstream: () => {
        const merged: Record<string, unknown> = {};
        for (const e of this.incoming.get(node.id) ?? []) {
          const s = this.states.get(e.source);
          if (s?.status === 'succeeded' && (e.source_handle ?? DEFAULT_PORT) === (s.branch ?? DEFAULT_PORT)) Object.assign(merged, s.output);
        }
        return merged;
      },
    };
  }

  private async runNested(
    graph: Graph,
    inputs: Record<string, unknown>,
    signal: AbortSignal,
    parent: NodeDef,
    opts: { isolated?: boolean; workflowId?: string } = {},
  ): Promise<SubRunResult> {
    if (opts.isolated) {
      const v = validateGraph(graph);
      if (!v.valid) {
        const first = v.errors[0];
        return { status: 'failed', outputs: {}, calls: [], usage: emptyUsage(), error: { code: 'INVALID_WORKFLOW', message: `${first.node_id ? `${first.node_id}: ` : ''}${first.message}` } };
      }
    }
    const runner = new GraphRunner({
      env: this.init.env,
      userId: this.init.userId,
      startedBy: this.init.startedBy,
      executionId: this.init.executionId,
      workflowId: opts.workflowId ?? this.init.workflowId,
      graph,
      inputs,
      outerScope: opts.isolated ? undefined : this.scope,
      nested: true,
      depth: (this.init.depth ?? 0) + (opts.isolated ? 1 : 0),
      delegationDepth: this.init.delegationDepth,
      signal,
      services: this.init.services,
      hooks: { log: (e) => this.log({ ...e, node_id: parent.id, message: `[${e.node_id ?? parent.id}] ${e.message}` }) },
    });
    const outcome = await runner.run();
    const usage: Usage = emptyUsage();
    const calls = outcome.states.flatMap((s) => {
      addUsage(usage, s.usage);
      return s.calls;
    });
    const status = outcome.status === 'succeeded' ? 'succeeded' : outcome.status === 'cancelled' ? 'cancelled' : 'failed';
    return { status, outputs: outcome.outputs, error: outcome.error, calls, usage };
  }

  /** One node with its timeout, retries and error strategy. */
  private async executeNode(node: NodeDef, st: NodeState): Promise<NodeExecution> {
    const type = nodeTypes[node.type];
    const parsed = parseConfig(node);
    if (!type || !parsed.ok) {
      const error = { code: type ? 'INVALID_CONFIG' : 'UNKNOWN_NODE_TYPE', message: parsed.ok ? `Unknown node type ${node.type}` : parsed.message };
      st.attempts++;
      return this.onFailure(node, error);
    }
    const raw = new Set(type.rawKeys ?? []);
    const resolved: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(parsed.config as Record<string, unknown>)) {
      resolved[k] = raw.has(k) ? v : resolveDeep(v, this.scope);
    }
    // The recorded inputs: what the node ran with (bodies are left out: they are in the graph).
    st.inputs = Object.fromEntries(Object.entries(resolved).filter(([k]) => k !== 'body'));
    const maxRetries = node.retry?.max_retries ?? 0;
    let last: { code: string; message: string } = { code: 'NODE_ERROR', message: 'failed' };
    for (let attempt = 1; ; attempt++) {
      st.attempts++;
      // A node with a time limit gets a signal of its own (the run's, or its timer's); others the run's.
      const timeout = node.timeout_ms ? new AbortController() : null;
      const signal = timeout ? AbortSignal.any([this.init.signal, timeout.signal]) : this.init.signal;
      const ctx = this.context(node, st, signal);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const running = type.run(ctx, parsed.config, resolved);
        const r = node.timeout_ms
          ? await Promise.race([
              running,
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => {
                  timeout!.abort();
                  reject(Object.assign(new Error(`Node ${node.id} timed out after ${node.timeout_ms} ms`), { code: 'NODE_TIMEOUT' }));
                }, node.timeout_ms);
              }),
            ])
          : await running;
        if ('wait' in r) return { kind: 'wait', wait: r.wait };
        return { kind: 'done', status: 'succeeded', output: r.output, branch: r.branch };
      } catch (e) {
        if (this.init.signal.aborted) return { kind: 'done', status: 'cancelled', error: { code: 'CANCELLED', message: 'The run was cancelled' } };
        const timedOut = (e as { code?: string })?.code === 'NODE_TIMEOUT';
        const ne = timedOut ? { code: 'NODE_TIMEOUT', message: (e as Error).message, retryable: true } : toNodeError(e);
        last = { code: ne.code, message: ne.message };
        if (attempt > maxRetries || !ne.retryable) break;
        const wait = backoffMs(node, attempt);
        this.init.hooks?.event?.({ type: 'node_retry', node_id: node.id, attempt: attempt + 1, delay_ms: wait, error: last });
        this.log({ node_id: node.id, level: 'warn', message: `Node ${node.id} attempt ${attempt} failed (${ne.code}); retrying in ${wait} ms`, data: last });
        try {
          await abortableSleep(wait, this.init.signal);
        } catch {
          return { kind: 'done', status: 'cancelled', error: { code: 'CANCELLED', message: 'The run was cancelled' } };
        }
      } finally {
        clearTimeout(timer);
      }
    }
    return this.onFailure(node, last);
  }

  private onFailure(node: NodeDef, error: { code: string; message: string }): NodeExecution {
    switch (node.error_strategy) {
      case 'default_value':
        return { kind: 'done', status: 'succeeded', output: { ...(node.default_output ?? {}) }, branch: DEFAULT_PORT, error };
      case 'error_branch':
        return { kind: 'done', status: 'failed', output: { error }, branch: ERROR_PORT, error, handled: true };
      default:
        return { kind: 'done', status: 'failed', error };
    }
  }
}

/** Runs one node alone with the given variables: the same code path as inside a run (debugging). */
export async function runSingleNode(init: {
  env: Env;
  userId: string;
  node: NodeDef;
  inputs: Record<string, unknown>;
  variables: Record<string, unknown>;
  services: EngineServices;
  signal?: AbortSignal;
}) {
  const logs: LogEntry[] = [];
  const events: RunEvent[] = [];
  const runner = new GraphRunner({
    env: init.env,
    userId: init.userId,
    executionId: crypto.randomUUID(),
    workflowId: null,
    graph: { nodes: [{ ...init.node, id: init.node.id }], edges: [] },
    inputs: init.inputs,
    outerScope: init.variables,
    nested: true,
    signal: init.signal ?? new AbortController().signal,
    services: init.services,
    hooks: { log: (e) => logs.push(e), event: (e) => events.push(e) },
  });
  // A lone node has no incoming edge; start it directly.
  const state = runner.states.get(init.node.id)!;
  await runner.execute(init.node);
  return { state, logs, events };
}

export { applyInputDefaults };
