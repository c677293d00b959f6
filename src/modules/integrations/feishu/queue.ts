import { botOpenId, feishuConfig, replyText, type FeishuConfig } from '../../../engine/feishu/client';
import { mentionsBot, messageText, readMessageEvent, type MessageEvent } from '../../../engine/feishu/protocol';
import type { ChatMessage } from '../../../engine/llm/types';
import type { Env } from '../../../env';
import { ApiError } from '../../../lib/errors';
import type { Agent } from '../../agents/agents/schemas';
import { loadAgent } from '../../agents/agents/service';
import { runAgent } from '../../../runs/agent-turn';
import { callOpenApi, defaultAgentId, findBinding, requestBinding } from './service';
import { FEISHU_QUEUE_NAME, type FeishuMessage } from '../../../queues';
import { logJobFailure } from '../../governance/system-logs/log';
import { runBatch } from '../../../db/client';
import { appendMessage, insertChatSession, latestMessages, touchChatSession } from '../../agents/agent-chat/store';
import { findActiveUser } from '../../identity/auth/store';
import * as store from './store';


/** How many earlier messages of the session the agent sees. */
const HISTORY_LIMIT = 40;

const JOB = `queue:${FEISHU_QUEUE_NAME}`;
const eventOf = (body: FeishuMessage | null) => (typeof body?.event_id === 'string' ? { type: 'feishu_event', id: body.event_id } : undefined);

export async function consumeFeishuBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const body = msg.body as FeishuMessage;
    try {
      await processEvent(env, body);
      msg.ack();
    } catch (e) {
      await logJobFailure(env, { job: JOB, gaveUp: false, messageId: msg.id, attempt: msg.attempts, resource: eventOf(body), cause: e });
      msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
    }
  }
}

/** Messages that kept failing: recorded as given up (the user's message stays unanswered; nothing else to undo). */
export async function consumeFeishuDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    await logJobFailure(env, { job: JOB, gaveUp: true, messageId: msg.id, resource: eventOf(msg.body as FeishuMessage) });
    msg.ack();
  }
}

/**
 * Handles one event once: `processed_at` is set when it is done, so a redelivered queue message
 * is skipped. The reply carries the event id as Feishu's dedupe `uuid`, so a retry after a reply
 * was sent but before it was recorded does not post it twice.
 */
export async function processEvent(env: Env, { event_id, payload }: FeishuMessage): Promise<void> {
  if (await store.eventProcessedAt(env.DB, event_id)) return;
  const event = readMessageEvent(payload);
  const cfg = feishuConfig(env);
  if (event && cfg) await handleMessage(env, cfg, event);
  await store.markEventProcessed(env.DB, event_id, Date.now());
}

async function handleMessage(env: Env, cfg: FeishuConfig, event: MessageEvent): Promise<void> {
  // The bot's own messages and other apps' are not conversation.
  if (event.sender_type !== 'user' || !event.sender_open_id || !event.message_id) return;
  const group = event.chat_type !== 'p2p';
  if (group) {
    let bot: string | undefined;
    try {
      bot = await callOpenApi(env, 'bot_info', () => botOpenId(env, cfg));
    } catch {
      bot = undefined;
    }
    if (!mentionsBot(event.mentions, bot)) return;
  }
  const reply = (text: string) => callOpenApi(env, 'reply', () => replyText(env, cfg, event.message_id, text, event.event_id));

  const text = messageText(event);
  if (text === null) return void (await reply('只支持文本消息。Only text messages are supported.'));
  if (!text) return;

  const binding = await findBinding(env, event.sender_open_id);
  if (!binding) {
    const { code } = await requestBinding(env, event.sender_open_id, event.chat_id, null);
    return void (await reply(
      `你的飞书账号尚未绑定天工账号。绑定码: ${code} (24 小时内有效)。\n` +
        `Your Feishu account is not bound to a Tiangong account yet. Sign in to Tiangong and bind it with ` +
        `POST /api/v1/feishu/bind {"open_id": "${event.sender_open_id}", "code": "${code}"} within 24 hours, ` +
        `or wait for an administrator to approve your request.`,
    ));
  }

  const agentId = binding.agent_id ?? (await defaultAgentId(env));
  const agent = agentId ? await loadAgent(env, agentId) : null;
  if (!agent || agent.status === 'stopped') {
    return void (await reply('没有可用的智能体,请联系管理员设置默认智能体。No agent is available: ask an administrator to set the Feishu default agent.'));
  }
  const user = await findActiveUser(env, binding.user_id);
  if (!user) return void (await reply('绑定的账号已停用。The bound account is disabled.'));

  let answer: string;
  try {
    answer = await converse(env, binding.user_id, agent, event, text);
  } catch (e) {
    // Model and tool failures are answered; anything else is retried by the queue.
    if (!(e instanceof ApiError)) throw e;
    answer = `出错了 / Something went wrong: ${e.message}`;
  }
  await reply(answer || '(empty reply)');
}

/**
 * One turn in the chat session of this Feishu user in this chat with this agent: a
 * chat_sessions row of the bound user (so it is one of their conversations), history from
 * chat_messages, the turn's messages appended after it. The agent runs for the bound user; the
 * default agent may belong to someone else, which the chat API's owner-only access would refuse.
 */
async function converse(env: Env, userId: string, agent: Agent, event: MessageEvent, text: string): Promise<string> {
  let sessionId = await store.findSessionId(env.DB, event.chat_id, event.sender_open_id, agent.id);
  if (!sessionId) {
    const id = crypto.randomUUID();
    const title = `Feishu: ${text.slice(0, 90)}`;
    await runBatch(env.DB, [
      insertChatSession(env.DB, { id, userId, agentId: agent.id, kind: 'chat', title }),
      store.insertSessionIfAbsent(env.DB, { chatId: event.chat_id, openId: event.sender_open_id, agentId: agent.id, sessionId: id }),
    ]);
    // Two events racing: whichever mapping won is the session.
    sessionId = (await store.findSessionId(env.DB, event.chat_id, event.sender_open_id, agent.id))!;
  }

  const results = await latestMessages(env.DB, sessionId, HISTORY_LIMIT);
  const history: ChatMessage[] = results.reverse().map((r) => ({
    role: r.role,
    content: r.content,
    ...(r.toolCalls ? { tool_calls: JSON.parse(r.toolCalls) } : {}),
    ...(r.toolCallId ? { tool_call_id: r.toolCallId } : {}),
    ...(r.name ? { name: r.name } : {}),
  }));
  // A window that starts inside a tool exchange would orphan tool results: start at a user message.
  while (history.length && history[0].role !== 'user') history.shift();

  const turn = await runAgent({ env, userId, agent, message: text, history, source: 'feishu' });
  const last = turn.messages.length - 1;
  const session = sessionId;
  await runBatch(env.DB, [
    ...turn.messages.map((m, i) =>
      appendMessage(env.DB, {
        id: crypto.randomUUID(),
        sessionId: session,
        role: m.role,
        content: m.content,
        toolCalls: m.tool_calls ? JSON.stringify(m.tool_calls) : null,
        toolCallId: m.tool_call_id ?? null,
        name: m.name ?? null,
        promptTokens: i === last ? turn.token_usage.prompt_tokens : null,
        completionTokens: i === last ? turn.token_usage.completion_tokens : null,
      }),
    ),
    touchChatSession(env.DB, session),
  ]);
  return turn.reply;
}
