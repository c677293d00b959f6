import type { AgentEvent } from '../../../engine/agent/loop';
import type { ChatMessage } from '../../../engine/llm/types';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, forbidden, validationError } from '../../../lib/errors';
import { SseWriter } from '../../../lib/sse';
import { runAgent } from '../../../runs/agent-turn';
import type { Agent } from '../../agents/agents/schemas';
import { loadAgent, mayRunAgent, runnableDeployedAgents } from '../../agents/agents/service';
import { assertChattable } from '../../../runs/agents';
import type { ChatCompletion, ChatCompletionInput } from './schemas';

const epochSeconds = (iso: string | number = Date.now()) => Math.floor(new Date(iso).getTime() / 1000);

/** GET /models: the deployed agents the caller may run — their own and those shared with them at execute. */
export async function listModels(env: Env, user: AuthUser) {
  const agents = await runnableDeployedAgents(env, user);
  return { object: 'list' as const, data: agents.map((r) => ({ id: r.id, object: 'model' as const, created: epochSeconds(r.created_at), owned_by: r.owner_id })) };
}

/**
 * The model id names an agent the caller may run (authorize(): execute); one they may not even
 * read is an unknown model (404), as it would be at OpenAI; one they may only read is 403.
 */
async function agentForModel(env: Env, user: AuthUser, model: string): Promise<Agent> {
  const agent = await loadAgent(env, model);
  const decision = await mayRunAgent(env, user, agent);
  if (decision.reason === 'not_found') throw new ApiError(404, 'NOT_FOUND', `Model ${model} not found`);
  if (!decision.allowed) throw forbidden(`Your access to model ${model} is ${decision.level}; running it needs execute`);
  assertChattable(agent!);
  return agent!;
}

const textOf = (content: ChatCompletionInput['messages'][number]['content']) =>
  typeof content === 'string' ? content : (content ?? []).map((p) => p.text).join('');

/**
 * OpenAI messages → the agent's turn: the last message must be the user's (it is the turn);
 * earlier user/assistant messages are the history; system and developer messages extend the
 * agent's own system prompt rather than replace it.
 */
export function toTurn(messages: ChatCompletionInput['messages']) {
  const last = messages[messages.length - 1];
  if (last.role !== 'user') throw validationError(`body.messages.${messages.length - 1}.role: the last message must be from the user`);
  const system: string[] = [];
  const history: ChatMessage[] = [];
  for (const m of messages.slice(0, -1)) {
    if (m.role === 'system' || m.role === 'developer') system.push(textOf(m.content));
    else history.push({ role: m.role, content: textOf(m.content) });
  }
  return { system, history, message: textOf(last.content) };
}

const completionId = () => `chatcmpl-${crypto.randomUUID().replace(/-/g, '')}`;

export async function chatCompletion(
  env: Env,
  user: AuthUser,
  input: ChatCompletionInput,
  ctx: { waitUntil(p: Promise<unknown>): void },
  signal?: AbortSignal,
): Promise<ChatCompletion | Response> {
  const turn = toTurn(input.messages);
  const agent = await agentForModel(env, user, input.model);
  const runnable: Agent = turn.system.length ? { ...agent, system_prompt: [agent.system_prompt, ...turn.system].filter(Boolean).join('\n\n') } : agent;
  const base = { id: completionId(), created: epochSeconds(), model: agent.id, system_fingerprint: null };
  const run = (onEvent?: (e: AgentEvent) => Promise<void>) =>
    runAgent({ env, userId: user.id, agent: runnable, message: turn.message, history: turn.history, stream: Boolean(onEvent), onEvent, source: 'openai', signal });

  if (!input.stream) {
    const result = await run();
    return {
      ...base,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: result.reply, refusal: null }, logprobs: null, finish_reason: result.finish_reason === 'stop' ? 'stop' : 'length' }],
      usage: result.token_usage,
    };
  }

  const includeUsage = input.stream_options?.include_usage === true;
  const sse = new SseWriter();
  // With include_usage, OpenAI sends `usage: null` on every chunk and the totals in a last chunk with no choices.
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    ...base,
    object: 'chat.completion.chunk',
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  const delta = (d: Record<string, unknown>, finish_reason: string | null = null) => ({ index: 0, delta: d, logprobs: null, finish_reason });

  const produce = async () => {
    try {
      await sse.data(chunk([delta({ role: 'assistant', content: '', refusal: null })]));
      const result = await run(async (e) => {
        if (e.type === 'token' && e.text) await sse.data(chunk([delta({ content: e.text })]));
      });
      // A turn ended by the iteration limit carries a reply the model never streamed.
      if (result.finish_reason !== 'stop') await sse.data(chunk([delta({ content: result.reply })]));
      await sse.data(chunk([delta({}, result.finish_reason === 'stop' ? 'stop' : 'length')]));
      if (includeUsage) await sse.data(chunk([], { usage: result.token_usage }));
      await sse.data('[DONE]');
    } catch (e) {
      // Headers are gone: the failure is reported in-stream the way OpenAI does (clients raise it).
      const err = e instanceof ApiError ? e : null;
      await sse.data({ error: { message: err?.message ?? 'Internal error', type: err && err.status < 500 ? 'invalid_request_error' : 'server_error', code: err?.code ?? 'INTERNAL_ERROR' } });
      if (!err) console.error(JSON.stringify({ type: 'openai_stream_failed', error: String(e) }));
    } finally {
      await sse.close();
    }
  };
  // The stream outlives the handler: keep the worker alive until it is written out.
  ctx.waitUntil(produce());
  return sse.response();
}
