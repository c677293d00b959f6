/**
 * What modules may know of the actors: their RPC surfaces, status constants and message types.
 * No classes: a module reaches an actor through its namespace binding typed with these interfaces,
 * and an actor implements them. Imports types from the engine, lib and runs/types.ts only (leaf files).
 */
import type { ToolCallRecord } from '../src/engine/agent/types';
import type { Usage } from '../src/engine/llm/types';
import type { Graph, NodeState } from '../src/engine/workflow/types';
import type { AuthUser } from '../src/lib/auth';

// ── Execution (durable-objects/execution.ts): one per workflow run ──────────────────────────

export interface ExecutionError {
  code: string;
  message: string;
  node_id?: string;
}

export type ExecutionStatus = 'pending' | 'running' | 'paused' | 'waiting_approval' | 'succeeded' | 'failed' | 'cancelled';
export const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

export interface StartRequest {
  execution_id: string;
  /** Who started the run: it is theirs (its logs and approvals too). */
  owner_id: string;
  /** Whose rights the graph uses (agents, sub-workflows, tools, models); defaults to owner_id. */
  run_as?: string;
  workflow_id: string | null;
  agent_id?: string | null;
  graph: Graph;
  inputs: Record<string, unknown>;
  /** Delegation depth of the run (started by run_workflow from a turn or a run: one deeper); default 0. */
  delegation_depth?: number;
  /** A retry or fork: the recorded node states it reuses (they are not run again). */
  reused?: NodeState[];
  /** A retry or fork: the run it comes from (announced in its `execution_started` event). */
  lineage?: { retry_of?: string; forked_from?: string; from_node_id?: string; item_index?: number };
}

export interface ExecutionSnapshot {
  execution_id: string;
  status: ExecutionStatus;
  outputs: Record<string, unknown> | null;
  error: ExecutionError | null;
  started_at: string | null;
  finished_at: string | null;
  nodes: NodeState[];
}

/** How a waiting approval node was decided, or (decision submitted) a human_input node's validated values. */
export interface ApprovalResolution {
  decision: 'approved' | 'rejected' | 'submitted';
  comment: string | null;
  decided_by: string;
  values?: Record<string, unknown>;
}

/**
 * The object's RPC surface as callers see it (every call is async over RPC). Declared by hand
 * because the generated stub type cannot express `unknown`-typed JSON values.
 */
export interface ExecutionRpc {
  start(req: StartRequest, waitMs?: number): Promise<ExecutionSnapshot>;
  settled(waitMs?: number): Promise<ExecutionSnapshot>;
  snapshot(): Promise<ExecutionSnapshot>;
  pause(): Promise<{ ok: boolean; status: ExecutionStatus }>;
  resume(waitMs?: number): Promise<{ ok: boolean; snapshot: ExecutionSnapshot }>;
  cancel(): Promise<{ ok: boolean; status: ExecutionStatus }>;
  decide(nodeId: string, resolution: ApprovalResolution, waitMs?: number): Promise<{ ok: boolean; snapshot: ExecutionSnapshot | null }>;
  fetch(request: Request): Promise<Response>;
}

/** The Execution namespace's type (src/env.ts): the RPC surface, branded as a Durable Object. */
export type ExecutionActor = ExecutionRpc & Rpc.DurableObjectBranded;

// ── ChatSession (durable-objects/chat-session.ts): one per chat session ──────────────────────

/**
 * What a message does when it arrives while the session's turn is still running (double-texting):
 * `reject` answers 409 TURN_IN_PROGRESS naming the running turn; `enqueue` runs it after the
 * running and waiting turns, in arrival order (the default); `interrupt` stops the running turn
 * at once (its partial answer saved, marked interrupted) and runs this one; `rollback` stops the
 * running turn and saves nothing of it (neither its user message nor its answer).
 */
export const MULTITASK_STRATEGIES = ['reject', 'enqueue', 'interrupt', 'rollback'] as const;
export type MultitaskStrategy = (typeof MULTITASK_STRATEGIES)[number];
export const DEFAULT_MULTITASK_STRATEGY: MultitaskStrategy = 'enqueue';

/**
 * What the worker asks of a session: one user message, for an agent (or the bare model). The
 * worker only checks the credential; the session object checks the rest (the user is active, the
 * session is theirs and the agent's, the agent may be run by them) with `admitChatTurn`
 * (src/runs/chat-admission.ts), in parallel with the model call when it knows the session already.
 */
export interface TurnRequest {
  session_id: string;
  /** The caller's user id (from the verified credential). */
  user_id: string;
  /** The caller, when the credential check read the account already (an API key); else the object reads it. */
  user?: AuthUser | null;
  /** The agent the message is for; null for bare chat. */
  agent_id: string | null;
  message: string;
  streamlined?: boolean;
  /** A new session with this (fresh) id: its row is written by the checks; there is no history to load. */
  new_session?: boolean;
  /** This message's double-texting policy (else the agent's, else DEFAULT_MULTITASK_STRATEGY). */
  multitask_strategy?: MultitaskStrategy;
}

export interface TurnResult {
  session_id: string;
  message_id: string;
  user_message_id: string;
  reply: string;
  tool_calls: ToolCallRecord[];
  token_usage: Usage;
  iterations: number;
  finish_reason: 'stop' | 'iteration_limit' | 'interrupted';
}

export type TurnOutcome =
  | { ok: true; result: TurnResult }
  /** `running_turn_id` with 409 TURN_IN_PROGRESS: the turn (its user message's id) still running. */
  | { ok: false; error: { status: number; code: string; message: string; running_turn_id?: string } };

/** The response header naming the running turn of a 409 TURN_IN_PROGRESS. */
export const RUNNING_TURN_HEADER = 'X-Running-Turn-Id';

/** How long a finished turn's events stay available to clients reconnecting with Last-Event-ID. */
export const RESUME_WINDOW_MS = 5 * 60 * 1000;

/** The ChatSession RPC surface: `send` runs one turn; `destroy` clears the session's storage. */
export interface ChatSessionRpc {
  send(request: TurnRequest): Promise<TurnOutcome>;
  destroy(): Promise<void>;
  fetch(request: Request): Promise<Response>;
}
export type ChatSessionActor = ChatSessionRpc & Rpc.DurableObjectBranded;

// ── CollabRoom (durable-objects/collab-room.ts): one per edited resource ─────────────────────

export const COLLAB_TYPES = ['agent', 'workflow'] as const;
export type CollabType = (typeof COLLAB_TYPES)[number];

export interface Member {
  connection_id: string;
  user_id: string;
  nickname: string;
  can_edit: boolean;
  cursor: unknown;
  selection: unknown;
  joined_at: string;
}

/** What the worker passes in X-Collab-Member. */
export interface MemberInfo {
  user: AuthUser;
  can_edit: boolean;
  resource_type: CollabType;
  resource_id: string;
}

/** The CollabRoom RPC surface (partyserver routes its sockets through fetch). */
export interface CollabRoomRpc {
  presence(): Promise<Member[]>;
  fetch(request: Request): Promise<Response>;
}
export type CollabRoomActor = CollabRoomRpc & Rpc.DurableObjectBranded;
