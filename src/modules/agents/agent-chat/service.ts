import { expandTemplate, getTemplate } from '../../marketplace/orchestration-templates/service';
import type { TurnOutcome, TurnRequest, TurnResult } from '../../../../durable-objects/contracts';
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
  type RunAgent,
} from '../../../engine/orchestration';
import { modelRouter } from '../../../engine/orchestration/router';
import type { Env } from '../../../env';
import type { UserLookup } from '../../identity/auth/guard';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated } from '../../../lib/pagination';
import type { Agent } from '../agents/schemas';
import { assertChattable, destroyChatSessions, getAgent, toAgent, toMessage, type AgentRow, type MessageRow } from '../agents/service';
import { authorizeResource } from '../../identity/permissions/authorize';
import { runAgent } from '../../../runs/agent-turn';
import type { BranchListInput, ChatInput, CreateBranchInput, GraphInput, OrchestrateInput } from './schemas';

interface SessionRow {
  id: string;
  user_id: string;
  agent_id: string | null;
  kind: 'chat' | 'preview' | 'branch';
  title: string;
  parent_session_id: string | null;
  forked_from_message_id: string | null;
  created_at: string;
  updated_at: string;
}

const sessionStub = (env: Env, sessionId: string) => env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(sessionId));

/** A session of the user's; 404 for anyone else's (admins included: conversations are private). */
async function ownSession(env: Env, user: AuthUser, id: string): Promise<SessionRow> {
  const row = await env.DB.prepare('SELECT * FROM chat_sessions WHERE id = ?').bind(id).first<SessionRow>();
  if (!row || row.user_id !== user.id) throw notFound('Session');
  return row;
}

/**
 * A new session for a first message: its id, and the write of its row, which callers run
 * alongside the turn and await before answering (so no client sees the id before the row exists).
 */
function newSession(env: Env, user: AuthUser, agent: Agent | null, input: ChatInput, id = crypto.randomUUID()): { id: string; isNew: true; created: Promise<unknown> } {
  // The owner talking to an agent that is still a draft is designing it: a preview conversation.
  const kind = agent && agent.status === 'draft' && agent.owner_id === user.id ? 'preview' : 'chat';
  const created = env.DB.prepare('INSERT INTO chat_sessions (id, user_id, agent_id, kind, title) VALUES (?, ?, ?, ?, ?)')
    .bind(id, user.id, agent?.id ?? null, kind, input.message.slice(0, 100))
    .run();
  return { id, isNew: true, created };
}

async function chattableAgent(env: Env, user: AuthUser, agentId: string | null): Promise<Agent | null> {
  if (agentId === null) return null;
  const agent = await getAgent(env, user, agentId, 'execute');
  assertChattable(agent);
  return agent;
}

export type ChatResponse = Partial<TurnResult> & { session_id: string; reply: string };

function present(result: TurnResult, streamlined: boolean): ChatResponse {
  if (streamlined) return { session_id: result.session_id, reply: result.reply };
  return result;
}

function unwrap(outcome: TurnOutcome): TurnResult {
  if (outcome.ok) return outcome.result;
  throw new ApiError(outcome.error.status as ApiError['status'], outcome.error.code, outcome.error.message);
}

/**
 * The user (when still to be read), the agent (checked) and the session (named and checked, or
 * new) of a chat message: their rows in one D1 batch, independent reads on every turn.
 */
async function agentAndSession(env: Env, caller: UserLookup, agentId: string | null, input: ChatInput, checkStopped = true) {
  const reads = [
    caller.statement,
    input.session_id ? env.DB.prepare('SELECT * FROM chat_sessions WHERE id = ?').bind(input.session_id) : null,
    agentId !== null ? env.DB.prepare('SELECT * FROM agents WHERE id = ?').bind(agentId) : null,
  ];
  // A new session of an active user with their own agent (not stopped) or bare: its row is
  // written with those reads, on the conditions the checks below enforce, rather than in a
  // write of its own after them. Anyone else's (an admin's, a grantee's) is written after the checks.
  const newId = input.session_id ? null : crypto.randomUUID();
  const title = input.message.slice(0, 100);
  const early =
    newId === null || !checkStopped || !reads.some(Boolean)
      ? null
      : agentId === null
        ? env.DB.prepare(
            `INSERT INTO chat_sessions (id, user_id, agent_id, kind, title) SELECT ?1, id, NULL, 'chat', ?2 FROM users WHERE id = ?3 AND status = 'active'`,
          ).bind(newId, title, caller.id)
        : env.DB.prepare(
            `INSERT INTO chat_sessions (id, user_id, agent_id, kind, title)
             SELECT ?1, u.id, a.id, CASE WHEN a.status = 'draft' THEN 'preview' ELSE 'chat' END, ?2
             FROM users u JOIN agents a ON a.id = ?4 AND a.owner_id = u.id AND a.status != 'stopped'
             WHERE u.id = ?3 AND u.status = 'active'`,
          ).bind(newId, title, caller.id, agentId);
  const statements = [...reads, early].filter((s): s is D1PreparedStatement => s !== null);
  const results = statements.length ? await env.DB.batch<Record<string, unknown>>(statements) : [];
  const rowsOf = (i: number) => (reads[i] ? results[reads.slice(0, i).filter(Boolean).length].results : []);
  const written = early !== null && (results.at(-1)?.meta.changes ?? 0) > 0;
  let user: AuthUser;
  let agent: Agent | null = null;
  try {
    user = caller.resolve(rowsOf(0)[0]);
    if (agentId !== null) {
      const found = rowsOf(2)[0] as unknown as AgentRow | undefined;
      agent = found ? toAgent(found) : null;
      await authorizeResource(env, user, 'agent', agent, 'execute');
      if (checkStopped) assertChattable(agent!);
    }
  } catch (e) {
    // The same conditions, so not expected: a refused message leaves no session behind.
    if (written) await env.DB.prepare('DELETE FROM chat_sessions WHERE id = ?').bind(newId).run();
    throw e;
  }
  if (newId !== null) {
    const session = written ? { id: newId, isNew: true as const, created: Promise.resolve() } : newSession(env, user, agent, input, newId);
    return { user, agent, session };
  }
  const row = rowsOf(1)[0] as unknown as SessionRow | undefined;
  if (!row || row.user_id !== user.id) throw notFound('Session');
  if ((row.agent_id ?? null) !== (agent?.id ?? null)) {
    throw validationError(agent ? 'body.session_id: the session belongs to another agent' : 'body.session_id: not a bare chat session');
  }
  return { user, agent, session: { id: row.id, isNew: false, created: Promise.resolve() } };
}

/** One non-streaming turn with an agent (or bare, `agentId` null), in the session's DO. */
export async function chat(env: Env, caller: UserLookup, agentId: string | null, input: ChatInput): Promise<ChatResponse> {
  const { user, agent, session } = await agentAndSession(env, caller, agentId, input);
  const request: TurnRequest = { session_id: session.id, user_id: user.id, agent, message: input.message, streamlined: input.streamlined, new_session: session.isNew };
  const [, outcome] = await Promise.all([session.created, sessionStub(env, session.id).send(request)]);
  return present(unwrap(outcome), input.streamlined);
}

/**
 * A streamed turn: the DO's SSE stream, passed through. With `Last-Event-ID` the DO replays the
 * rest of the turn that event belongs to instead of starting a new one.
 */
export async function chatStream(env: Env, caller: UserLookup, agentId: string | null, input: ChatInput, lastEventId?: string): Promise<Response> {
  const resuming = lastEventId !== undefined && lastEventId.trim() !== '';
  if (resuming && !input.session_id) throw validationError('body.session_id: required to reconnect with Last-Event-ID');
  // Reconnecting only reads what the turn already produced: a since-stopped agent does not block it.
  const { user, agent, session } = await agentAndSession(env, caller, agentId, input, !resuming);
  const request: TurnRequest = { session_id: session.id, user_id: user.id, agent, message: input.message, streamlined: input.streamlined, new_session: session.isNew };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (resuming) headers['Last-Event-ID'] = lastEventId!;
  const [, res] = await Promise.all([
    session.created,
    sessionStub(env, session.id).fetch('https://chat-session/stream', { method: 'POST', headers, body: JSON.stringify(request) }),
  ]);
  if (!res.ok) {
    const body = (await res.json()) as { error: string; message: string };
    throw new ApiError(res.status as ApiError['status'], body.error, body.message);
  }
  const out = new Headers(res.headers);
  out.set('X-Session-Id', session.id);
  return new Response(res.body, { status: 200, headers: out });
}

// --- orchestration -------------------------------------------------------------------------

async function loadAgents(env: Env, user: AuthUser, ids: string[]): Promise<Map<string, Agent>> {
  const agents = await Promise.all([...new Set(ids)].map((id) => getAgent(env, user, id, 'execute')));
  agents.forEach(assertChattable);
  return new Map(agents.map((a) => [a.id, a]));
}

const asParticipant = (a: Agent): OrchestrationAgent => ({ id: a.id, name: a.name, description: a.description });

/** Runs each agent once, with no history, for the orchestration modes. */
export function agentRunner(env: Env, user: AuthUser, agents: Map<string, Agent>, source: string, recorder?: CallRecorder): RunAgent {
  return async (participant, input) => {
    const r = await runAgent({ env, userId: user.id, agent: agents.get(participant.id)!, message: input, source, recorder });
    return { output: r.reply, token_usage: r.token_usage };
  };
}

/**
 * The route mode's router: with the mock model the deterministic name match (documented in the
 * README); with a real model, the model picks with JSON output, falling back to the name match.
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
  const run = agentRunner(env, user, agents, 'orchestrate', recorder);
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
    return await runGraph(nodes, input.edges, input.message, agentRunner(env, user, agents, 'orchestrate', recorder));
  } finally {
    await flushCalls(env.DB, recorder);
  }
}

// --- branches ------------------------------------------------------------------------------

interface BranchRow extends SessionRow {
  message_count: number;
}

const toBranch = (r: BranchRow) => ({
  id: r.id,
  session_id: r.parent_session_id!,
  agent_id: r.agent_id,
  name: r.title,
  forked_from_message_id: r.forked_from_message_id!,
  message_count: r.message_count,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

const BRANCH_SELECT = `SELECT s.*, (SELECT count(*) FROM chat_messages m WHERE m.session_id = s.id) AS message_count FROM chat_sessions s`;

// A UUID v4 made by SQLite, so copying a conversation is one INSERT ... SELECT.
const SQL_UUID = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
  substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;

async function ownBranch(env: Env, user: AuthUser, id: string): Promise<BranchRow> {
  const row = await env.DB.prepare(`${BRANCH_SELECT} WHERE s.id = ? AND s.kind = 'branch'`).bind(id).first<BranchRow>();
  if (!row || row.user_id !== user.id) throw notFound('Branch');
  return row;
}

/**
 * Forks a session after one of its messages: a new `branch` session holding a copy of the
 * messages up to it (and, after an assistant message that called tools, those tools' results,
 * so the copy is a well-formed conversation). The original is not touched.
 */
export async function createBranch(env: Env, user: AuthUser, input: CreateBranchInput) {
  const parent = await ownSession(env, user, input.session_id);
  const msg = await env.DB.prepare('SELECT seq, role, tool_calls FROM chat_messages WHERE id = ? AND session_id = ?')
    .bind(input.message_id, parent.id)
    .first<{ seq: number; role: string; tool_calls: string | null }>();
  if (!msg) throw validationError('body.message_id: not a message of this session');
  let upTo = msg.seq;
  if (msg.role === 'assistant' && msg.tool_calls) {
    const { results } = await env.DB.prepare('SELECT seq, role FROM chat_messages WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT 100')
      .bind(parent.id, msg.seq)
      .all<{ seq: number; role: string }>();
    for (const r of results) {
      if (r.role !== 'tool') break;
      upTo = r.seq;
    }
  }
  const id = crypto.randomUUID();
  const name = input.name ?? `${parent.title || 'Conversation'} (branch)`.slice(0, 100);
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO chat_sessions (id, user_id, agent_id, kind, title, parent_session_id, forked_from_message_id) VALUES (?, ?, ?, 'branch', ?, ?, ?)",
    ).bind(id, user.id, parent.agent_id, name, parent.id, input.message_id),
    env.DB.prepare(
      `INSERT INTO chat_messages (id, session_id, seq, role, content, tool_calls, tool_call_id, name, prompt_tokens, completion_tokens, created_at)
       SELECT ${SQL_UUID}, ?, seq, role, content, tool_calls, tool_call_id, name, prompt_tokens, completion_tokens, created_at
       FROM chat_messages WHERE session_id = ? AND seq <= ?`,
    ).bind(id, parent.id, upTo),
  ]);
  return toBranch(await ownBranch(env, user, id));
}

export async function listBranches(env: Env, user: AuthUser, query: BranchListInput) {
  const where = ["s.user_id = ?", "s.kind = 'branch'"];
  const binds: unknown[] = [user.id];
  if (query.session_id) {
    where.push('s.parent_session_id = ?');
    binds.push(query.session_id);
  }
  const clause = `WHERE ${where.join(' AND ')}`;
  const { limit, offset } = pageBounds(query);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`${BRANCH_SELECT} ${clause} ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM chat_sessions s ${clause}`).bind(...binds),
  ]);
  return paginated((rows.results as unknown as BranchRow[]).map(toBranch), (count.results[0] as { n: number }).n, query);
}

export async function getBranch(env: Env, user: AuthUser, id: string) {
  const branch = await ownBranch(env, user, id);
  const { results } = await env.DB.prepare(
    'SELECT id, session_id, seq, role, content, tool_calls, tool_call_id, name, created_at FROM chat_messages WHERE session_id = ? ORDER BY seq',
  )
    .bind(branch.id)
    .all<MessageRow>();
  return { ...toBranch(branch), messages: results.map(toMessage) };
}

/** Deletes a branch: its D1 rows in one batch, then the DO's copy of its history. */
export async function deleteBranch(env: Env, user: AuthUser, id: string): Promise<void> {
  const branch = await ownBranch(env, user, id);
  await env.DB.batch([
    env.DB.prepare('DELETE FROM chat_messages WHERE session_id = ?').bind(branch.id),
    env.DB.prepare('DELETE FROM chat_sessions WHERE id = ?').bind(branch.id),
  ]);
  await destroyChatSessions(env, [branch.id]);
}

/** Continues the conversation in a branch (its own session; the original is not changed). */
export async function resumeBranch(env: Env, user: AuthUser, id: string, input: { message: string; streamlined: boolean }): Promise<ChatResponse> {
  const branch = await ownBranch(env, user, id);
  const agent = await chattableAgent(env, user, branch.agent_id);
  const request: TurnRequest = { session_id: branch.id, user_id: user.id, agent, message: input.message, streamlined: input.streamlined };
  return present(unwrap(await sessionStub(env, branch.id).send(request)), input.streamlined);
}
