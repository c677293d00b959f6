import type { AgentEvent } from '../../../engine/agent/loop';
import { runSwarm, type SwarmEvent, type SwarmResult, type SwarmRole } from '../../../engine/orchestration/swarm';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { ApiError } from '../../../lib/errors';
import { SseWriter } from '../../../lib/sse';
import type { Agent } from '../../agents/agents/schemas';
import { getAgent } from '../../agents/agents/service';
import { runAgent } from '../../../runs/agent-turn';
import type { SwarmRun } from './schemas';

async function loadAgents(env: Env, user: AuthUser, ids: string[]): Promise<Agent[]> {
  return Promise.all(ids.map((id) => getAgent(env, user, id, 'execute')));
}

function swarm(env: Env, user: AuthUser, agents: Agent[], body: SwarmRun, onEvent?: (e: SwarmEvent) => Promise<void>, onToken?: (agent: Agent, role: SwarmRole, round: number, text: string) => Promise<void>, signal?: AbortSignal): Promise<SwarmResult> {
  const byId = new Map(agents.map((a) => [a.id, a]));
  return runSwarm(
    body.task,
    agents,
    body.max_rounds,
    async (a, input, role, round) => {
      const agent = byId.get(a.id)!;
      const turn = await runAgent({
        env,
        userId: agent.owner_id,
        agent,
        message: input,
        source: 'swarm',
        stream: Boolean(onToken),
        signal,
        onEvent: onToken ? (e: AgentEvent) => (e.type === 'token' ? onToken(agent, role, round, e.text) : undefined) : undefined,
      });
      return { output: turn.reply, token_usage: turn.token_usage };
    },
    onEvent,
  );
}

export async function runSwarmOnce(env: Env, user: AuthUser, body: SwarmRun): Promise<SwarmResult> {
  return swarm(env, user, await loadAgents(env, user, body.agent_ids), body);
}

/** The swarm as SSE: agent_started, token, agent_finished, then done with the whole result, or error. */
export async function runSwarmStream(env: Env, user: AuthUser, body: SwarmRun, ctx: { waitUntil(p: Promise<unknown>): void }, signal?: AbortSignal): Promise<Response> {
  // Unknown agents are a 404 before the stream starts, like the non-streaming call.
  const agents = await loadAgents(env, user, body.agent_ids);
  const sse = new SseWriter();
  let seq = 0;
  const send = (event: string, data: unknown) => sse.send(event, data, ++seq);
  const work = (async () => {
    try {
      const result = await swarm(
        env,
        user,
        agents,
        body,
        async (e) => {
          if (e.type === 'agent_started') await send('agent_started', { agent_id: e.agent_id, agent_name: e.agent_name, role: e.role, round: e.round });
          else await send('agent_finished', e.step);
        },
        (agent, role, round, text) => send('token', { agent_id: agent.id, role, round, text }),
        signal,
      );
      await send('done', result);
    } catch (e) {
      await send('error', e instanceof ApiError ? { error: e.code, message: e.message } : { error: 'INTERNAL_ERROR', message: 'The swarm failed' });
    } finally {
      await sse.close();
    }
  })();
  ctx.waitUntil(work);
  return sse.response();
}
