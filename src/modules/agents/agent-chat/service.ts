import { expandTemplate, getTemplate } from '../../marketplace/orchestration-templates/service';
import { RUNNING_TURN_HEADER, type TurnOutcome, type TurnRequest, type TurnResult } from '../../../../durable-objects/contracts';
import { CallRecorder } from '../../../engine/llm/gateway';
import { flushCalls } from '../../../runs/llm-calls';
import { resolveModelTarget } from '../../../runs/model-target';
import {
  nameMatchRouter,
  runDebate,
  runGraph,
  runRoute,
  runSequential,
  topologicalOrder,
  type OrchestrationAgent,
  type OrchestrationResult,
} from '../../../engine/orchestration';
import { modelRouter } from '../../../engine/orchestration/router';
import type { Env } from '../../../env';
import type { Caller } from '../../identity/auth/guard';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated } from '../../../lib/pagination';
import { authorizeResource } from '../../identity/permissions/authorize';
import { orchestrationTurns } from '../../../runs/agent-turn';
import { assertChattable, loadTurnAgent } from '../../../runs/agents';
import type { TurnAgent as Agent } from '../../../runs/types';
import { runBatch } from '../../../db/client';
import * as store from './store';
import type { BranchListInput, ChatInput, CreateBranchInput, GraphInput, OrchestrateInput } from './schemas';

type SessionRow = store.SessionRow;

/** A stored chat message as the API shows it. */
export const toMessage = (m: store.ShownMessage) => ({
  id: m.id,
  session_id: m.sessionId,
  seq: m.seq,
  role: m.role,
  content: m.content,
  tool_calls: m.toolCalls ? JSON.parse(m.toolCalls) : null,
  tool_call_id: m.toolCallId,
  name: m.name,
  interrupted: m.interrupted,
  created_at: m.createdAt,
});

/** How many session objects are cleared at once. */
const DESTROY_CONCURRENCY = 20;

/**
 * Deletes the storage (history, kept stream events, alarm) of the ChatSession objects of deleted
 * sessions. Their D1 rows are already gone, so a failure is logged, not thrown.
 */
export async function destroyChatSessions(env: Env, sessionIds: string[]): Promise<void> {
  for (let i = 0; i < sessionIds.length; i += DESTROY_CONCURRENCY) {
    const outcomes = await Promise.allSettled(
      sessionIds.slice(i, i + DESTROY_CONCURRENCY).map((sid) => env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(sid)).destroy()),
    );
    for (const o of outcomes) {
      if (o.status === 'rejected') console.error(JSON.stringify({ type: 'error', where: 'chat session destroy', error: String(o.reason) }));
    }
  }
}

/** An agent the user may run (execute): 404 when they may not even read it, 403 when they may read it only. */
async function executableAgent(env: Env, user: AuthUser, id: string): Promise<Agent> {
  const agent = await loadTurnAgent(env.DB, id);
  await authorizeResource(env, user, 'agent', agent, 'execute');
  return agent!;
}

const sessionStub = (env: Env, sessionId: string) => env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(sessionId));

/** A session of the user's; 404 for anyone else's (admins included: conversations are private). */
async function ownSession(env: Env, user: AuthUser, id: string): Promise<SessionRow> {
  const row = await store.findSession(env.DB, id);
  if (!row || row.userId !== user.id) throw notFound('Session');
  return row;
}

export type ChatResponse = Partial<TurnResult> & { session_id: string; reply: string };

function present(result: TurnResult, streamlined: boolean): ChatResponse {
  if (streamlined) return { session_id: result.session_id, reply: result.reply };
  return result;
}

function unwrap(outcome: TurnOutcome): TurnResult {
  if (outcome.ok) return outcome.result;
  const { status, code, message, running_turn_id } = outcome.error;
  throw new ApiError(status as ApiError['status'], code, message, running_turn_id ? { [RUNNING_TURN_HEADER]: running_turn_id } : undefined);
}

/**
 * The turn a chat message asks its session for: the credential is checked already; the session
 * object checks the rest (runs/chat-admission.ts). A message without a session starts one with a
 * new id.
 */
function turnRequest(caller: Caller, agentId: string | null, input: ChatInput): TurnRequest {
  return {
    session_id: input.session_id ?? crypto.randomUUID(),
    user_id: caller.id,
    user: caller.user,
    agent_id: agentId,
    message: input.message,
    streamlined: input.streamlined,
    new_session: !input.session_id,
    multitask_strategy: input.multitask_strategy,
  };
}

/** One non-streaming turn with an agent (or bare, `agentId` null), in the session's object. */
export async function chat(env: Env, caller: Caller, agentId: string | null, input: ChatInput): Promise<ChatResponse> {
  const request = turnRequest(caller, agentId, input);
  return present(unwrap(await sessionStub(env, request.session_id).send(request)), input.streamlined);
}

/**
 * A streamed turn: the object's SSE stream, passed through. With `Last-Event-ID` the object
 * replays the rest of the turn that event belongs to instead of starting a new one.
 */
export async function chatStream(env: Env, caller: Caller, agentId: string | null, input: ChatInput, lastEventId?: string): Promise<Response> {
  const resuming = lastEventId !== undefined && lastEventId.trim() !== '';
  if (resuming && !input.session_id) throw validationError('body.session_id: required to reconnect with Last-Event-ID');
  const request = turnRequest(caller, agentId, input);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (resuming) headers['Last-Event-ID'] = lastEventId!;
  const res = await sessionStub(env, request.session_id).fetch('https://chat-session/stream', { method: 'POST', headers, body: JSON.stringify(request) });
  if (!res.ok) {
    const body = (await res.json()) as { error: string; message: string };
    const running = res.headers.get(RUNNING_TURN_HEADER);
    throw new ApiError(res.status as ApiError['status'], body.error, body.message, running ? { [RUNNING_TURN_HEADER]: running } : undefined);
  }
  const out = new Headers(res.headers);
  out.set('X-Session-Id', request.session_id);
  return new Response(res.body, { status: 200, headers: out });
}

// --- orchestration -------------------------------------------------------------------------

async function loadAgents(env: Env, user: AuthUser, ids: string[]): Promise<Map<string, Agent>> {
  const agents = await Promise.all([...new Set(ids)].map((id) => executableAgent(env, user, id)));
  agents.forEach(assertChattable);
  return new Map(agents.map((a) => [a.id, a]));
}

const asParticipant = (a: Agent): OrchestrationAgent => ({ id: a.id, name: a.name, description: a.description });

/**
 * The route mode's router: with the mock model the deterministic name match (documented in
 * docs/agents.md); with a real model, the model picks with JSON output, falling back to the name match.
 */
export async function routerFor(env: Env, user: AuthUser) {
  const target = await resolveModelTarget(env, user.id, null);
  return target.provider === 'mock' ? nameMatchRouter : modelRouter(env, target, { user_id: user.id, source: 'router' });
}

export async function orchestrate(env: Env, user: AuthUser, input: OrchestrateInput): Promise<OrchestrationResult> {
  let mode = input.mode!;
  let agentIds = input.agent_ids!;
  let rounds = input.rounds ?? 2;
  if (input.template_id) {
    // An orchestration template fixes the pattern; the caller only casts an agent in each role.
    const plan = expandTemplate(await getTemplate(env, user, input.template_id), input.roles ?? {});
    if (plan.mode === 'graph') return orchestrateGraph(env, user, { nodes: plan.nodes, edges: plan.edges, message: input.message });
    mode = plan.mode;
    agentIds = plan.agent_ids;
    rounds = input.rounds ?? plan.rounds ?? 2;
  }
  const agents = await loadAgents(env, user, agentIds);
  const participants = agentIds.map((id) => asParticipant(agents.get(id)!));
  // The run's model calls are recorded in one batch at the end, not one insert each on the way.
  const recorder = new CallRecorder();
  const run = orchestrationTurns(env, user.id, agents, 'orchestrate', recorder);
  try {
    switch (mode) {
      case 'route':
        return await runRoute(participants, input.message, run, await routerFor(env, user));
      case 'sequential':
        return await runSequential(participants, input.message, run);
      case 'debate':
        return await runDebate(participants, input.message, rounds, run);
    }
  } finally {
    await flushCalls(env.DB, recorder);
  }
}

export async function orchestrateGraph(env: Env, user: AuthUser, input: GraphInput): Promise<OrchestrationResult> {
  // Shape first (unknown nodes, cycles → 422), so a bad graph costs no agent lookups.
  topologicalOrder(input.nodes.map((n) => n.id), input.edges);
  const agents = await loadAgents(env, user, input.nodes.map((n) => n.agent_id));
  const nodes = input.nodes.map((n) => ({ id: n.id, agent: asParticipant(agents.get(n.agent_id)!) }));
  const recorder = new CallRecorder();
  try {
    return await runGraph(nodes, input.edges, input.message, orchestrationTurns(env, user.id, agents, 'orchestrate', recorder));
  } finally {
    await flushCalls(env.DB, recorder);
  }
}

// --- branches ------------------------------------------------------------------------------

type BranchRow = store.BranchRow;

const toBranch = (r: BranchRow) => ({
  id: r.id,
  session_id: r.parentSessionId!,
  agent_id: r.agentId,
  name: r.title,
  forked_from_message_id: r.forkedFromMessageId!,
  message_count: r.messageCount,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

async function ownBranch(env: Env, user: AuthUser, id: string): Promise<BranchRow> {
  const row = await store.findBranch(env.DB, id);
  if (!row || row.userId !== user.id) throw notFound('Branch');
  return row;
}

/**
 * Forks a session after one of its messages: a new `branch` session holding a copy of the
 * messages up to it (and, after an assistant message that called tools, those tools' results,
 * so the copy is a well-formed conversation). The original is not touched.
 */
export async function createBranch(env: Env, user: AuthUser, input: CreateBranchInput) {
  const parent = await ownSession(env, user, input.session_id);
  const msg = await store.findSessionMessage(env.DB, parent.id, input.message_id);
  if (!msg) throw validationError('body.message_id: not a message of this session');
  let upTo = msg.seq;
  if (msg.role === 'assistant' && msg.toolCalls) {
    for (const r of await store.messagesAfter(env.DB, parent.id, msg.seq)) {
      if (r.role !== 'tool') break;
      upTo = r.seq;
    }
  }
  const id = crypto.randomUUID();
  const name = input.name ?? `${parent.title || 'Conversation'} (branch)`.slice(0, 100);
  await runBatch(env.DB, [
    store.insertSession(env.DB, { id, userId: user.id, agentId: parent.agentId, kind: 'branch', title: name, parentSessionId: parent.id, forkedFromMessageId: input.message_id }),
    store.copyMessages(env.DB, parent.id, id, upTo),
  ]);
  return toBranch(await ownBranch(env, user, id));
}

export async function listBranches(env: Env, user: AuthUser, query: BranchListInput) {
  const { limit, offset } = pageBounds(query);
  const { rows, total } = await store.listBranches(env.DB, user.id, query.session_id, limit, offset);
  return paginated(rows.map(toBranch), total, query);
}

export async function getBranch(env: Env, user: AuthUser, id: string) {
  const branch = await ownBranch(env, user, id);
  const messages = await store.listMessages(env.DB, branch.id);
  return { ...toBranch(branch), messages: messages.map(toMessage) };
}

/** Deletes a branch: its D1 rows in one batch, then the DO's copy of its history. */
export async function deleteBranch(env: Env, user: AuthUser, id: string): Promise<void> {
  const branch = await ownBranch(env, user, id);
  await runBatch(env.DB, store.deleteSession(env.DB, branch.id));
  await destroyChatSessions(env, [branch.id]);
}

/** Continues the conversation in a branch (its own session; the original is not changed). */
export async function resumeBranch(env: Env, user: AuthUser, id: string, input: { message: string; streamlined: boolean }): Promise<ChatResponse> {
  const branch = await ownBranch(env, user, id);
  const request: TurnRequest = { session_id: branch.id, user_id: user.id, user, agent_id: branch.agentId, message: input.message, streamlined: input.streamlined };
  return present(unwrap(await sessionStub(env, branch.id).send(request)), input.streamlined);
}
