import type { TurnRequest } from '../../durable-objects/contracts';
import { runBatch, type AnyStatement } from '../db/client';
import { UNAUTHORIZED_MESSAGE, type AuthUser } from '../lib/auth';
import type { Env } from '../env';
import { notFound, unauthorized, validationError } from '../lib/errors';
import * as chatStore from '../modules/agents/agent-chat/store';
import { agentRowStatement, type AgentRow } from '../modules/agents/agents/store';
import { activeUserStatement } from '../modules/identity/auth/store';
import { authorizeResource } from '../modules/identity/permissions/authorize';
import { assertChattable, toTurnAgent } from './agents';
import type { TurnAgent } from './types';

/** Who a chat message is from and which agent answers it, once its checks passed. */
export interface AdmittedTurn {
  user: AuthUser;
  agent: TurnAgent | null;
}

/**
 * The checks of one chat message, in one D1 batch: the user is active (read here unless the
 * credential check read the account already), the agent exists and the user may run it (404,
 * 403), it is not stopped (409; skipped with `checkStopped` false — a reconnect only reads what
 * a turn produced), and the named session is the user's (404) and the agent's (422). A new
 * session's row is written in the same batch, on the conditions the checks enforce, for a user
 * talking to their own agent or the bare model; anyone else's (an admin's, a grantee's) is written
 * after the checks. A refused message leaves no session behind.
 *
 * The ChatSession object runs it on each message: before the turn, or, when the object knows the
 * session's agent already, beside the turn's first model call (durable-objects/chat-session.ts).
 */
export async function admitChatTurn(env: Env, request: TurnRequest, checkStopped = true): Promise<AdmittedTurn> {
  const d1 = env.DB;
  const agentId = request.agent_id;
  const known = request.user ?? null;
  const reads: Array<D1PreparedStatement | null> = [
    known ? null : activeUserStatement(d1, request.user_id),
    request.new_session ? null : chatStore.sessionRowStatement(d1, request.session_id),
    agentId !== null ? agentRowStatement(d1, agentId) : null,
  ];
  const title = request.message.slice(0, 100);
  const early = request.new_session && checkStopped ? chatStore.insertSessionIfChattable(d1, { id: request.session_id, title, userId: request.user_id, agentId }) : null;
  const statements = [...reads, early].filter((s): s is D1PreparedStatement => s !== null);
  const results = (await runBatch(d1, statements as AnyStatement[])) as D1Result[];
  const rowsOf = (i: number): unknown[] => (reads[i] ? results[reads.slice(0, i).filter(Boolean).length].results : []);
  const written = early !== null && (results.at(-1)?.meta.changes ?? 0) > 0;

  let user: AuthUser;
  let agent: TurnAgent | null = null;
  try {
    if (known) user = known;
    else {
      const row = rowsOf(0)[0] as Omit<AuthUser, 'auth_method'> | undefined;
      if (!row) throw unauthorized(UNAUTHORIZED_MESSAGE);
      user = { ...row, auth_method: 'jwt' };
    }
    if (agentId !== null) {
      const found = rowsOf(2)[0] as AgentRow | undefined;
      agent = found ? toTurnAgent(found) : null;
      await authorizeResource(env, user, 'agent', agent, 'execute');
      if (checkStopped) assertChattable(agent!);
    }
  } catch (e) {
    // The same conditions, so not expected: a refused message leaves no session behind.
    if (written) await runBatch(d1, [chatStore.deleteSessionRow(d1, request.session_id)]);
    throw e;
  }

  if (request.new_session) {
    if (!written) {
      // The owner talking to an agent that is still a draft is designing it: a preview conversation.
      const kind = agent && agent.status === 'draft' && agent.owner_id === user.id ? 'preview' : 'chat';
      await runBatch(d1, [chatStore.insertSession(d1, { id: request.session_id, userId: user.id, agentId: agent?.id ?? null, kind, title })]);
    }
    return { user, agent };
  }
  const session = rowsOf(1)[0] as chatStore.SessionRow | undefined;
  if (!session || session.userId !== user.id) throw notFound('Session');
  if ((session.agentId ?? null) !== (agent?.id ?? null)) {
    throw validationError(agent ? 'body.session_id: the session belongs to another agent' : 'body.session_id: not a bare chat session');
  }
  return { user, agent };
}
