import type { Env } from '../../env';
import { complete, streamComplete, type CallMeta, type ModelTarget } from '../llm/gateway';
import { addUsage, emptyUsage, type ChatMessage, type ChatResult, type ToolCall, type ToolSpec, type Usage } from '../llm/types';
import { ANSWER_RESERVE, contextWindow, trimToBudget } from './context';
import type { ToolCallRecord } from './types';
import type { TurnTrace } from '../telemetry/spans';

/** What the loop reports while it runs (the chat SSE events are made from these). */
export type AgentEvent =
  | { type: 'token'; text: string }
  | { type: 'tool_call'; id: string; name: string; arguments: unknown }
  | { type: 'tool_result'; id: string; name: string; output: unknown; error?: string; duration_ms: number };

export interface ToolExecution {
  output: unknown;
  error?: string;
  duration_ms: number;
}

export interface AgentTurnInput {
  env: Env;
  target: ModelTarget;
  meta: CallMeta;
  systemPrompt?: string | null;
  /** Earlier messages of the conversation, oldest first (without the system prompt). */
  history: ChatMessage[];
  message: string;
  tools: ToolSpec[];
  /** Runs one tool call; failures are returned as `error`, not thrown, so the model can react. */
  executeTool: (call: ToolCall) => Promise<ToolExecution>;
  iterationLimit: number;
  stream?: boolean;
  onEvent?: (event: AgentEvent) => void | Promise<void>;
  signal?: AbortSignal;
  /** Collects a span per model call and tool call when the turn is traced (docs/traces.md). */
  trace?: TurnTrace;
}

export interface AgentTurnResult {
  reply: string;
  tool_calls: ToolCallRecord[];
  token_usage: Usage;
  iterations: number;
  /** The messages this turn added to the conversation (user, assistant, tool), in order. */
  messages: ChatMessage[];
  /** `iteration_limit` when the model was still calling tools at the limit. */
  finish_reason: 'stop' | 'iteration_limit';
}

export function parseArguments(raw: string): unknown {
  try {
    return JSON.parse(raw || '{}');
  } catch {
    return raw;
  }
}

/**
 * One agent turn: the model is called with the system prompt, the (trimmed) history and the new
 * message; every tool it calls is run and its result fed back, until it answers without tools or
 * `iterationLimit` model calls have been made.
 */
export async function runAgentTurn(input: AgentTurnInput): Promise<AgentTurnResult> {
  const system: ChatMessage[] = input.systemPrompt ? [{ role: 'system', content: input.systemPrompt }] : [];
  const added: ChatMessage[] = [{ role: 'user', content: input.message }];
  const usage = emptyUsage();
  const records: ToolCallRecord[] = [];
  const budget = contextWindow(input.target.model_name) - (input.target.max_tokens ?? ANSWER_RESERVE);
  const emit = async (e: AgentEvent) => {
    if (input.onEvent) await input.onEvent(e);
  };

  for (let iteration = 1; iteration <= input.iterationLimit; iteration++) {
    const messages = trimToBudget(system, [...input.history, ...added], budget);
    const request = { messages, tools: input.tools.length ? input.tools : undefined, signal: input.signal };
    let result: ChatResult;
    const modelSpan = input.trace?.startModelCall(messages, !!input.stream);
    try {
      if (input.stream) {
        result = undefined as unknown as ChatResult;
        for await (const event of streamComplete(input.env, input.target, request, input.meta)) {
          if (event.type === 'token') await emit({ type: 'token', text: event.text });
          else if (event.type === 'done') result = event.result;
        }
      } else {
        result = await complete(input.env, input.target, request, input.meta);
      }
    } catch (e) {
      modelSpan?.end(e);
      throw e;
    }
    if (modelSpan) input.trace!.endModelCall(modelSpan, result);
    addUsage(usage, result.usage);

    if (result.tool_calls.length === 0) {
      added.push({ role: 'assistant', content: result.content });
      return { reply: result.content, tool_calls: records, token_usage: usage, iterations: iteration, messages: added, finish_reason: 'stop' };
    }

    added.push({ role: 'assistant', content: result.content || null, tool_calls: result.tool_calls });
    for (const call of result.tool_calls) {
      const args = parseArguments(call.arguments);
      await emit({ type: 'tool_call', id: call.id, name: call.name, arguments: args });
      const toolSpan = input.trace?.startToolCall(call, args);
      const outcome = await input.executeTool(call);
      if (toolSpan) input.trace!.endToolCall(toolSpan, outcome);
      records.push({ id: call.id, name: call.name, arguments: args, ...outcome });
      await emit({ type: 'tool_result', id: call.id, name: call.name, ...outcome });
      const content = outcome.error ? JSON.stringify({ error: outcome.error }) : JSON.stringify(outcome.output ?? null);
      added.push({ role: 'tool', content, tool_call_id: call.id, name: call.name });
    }
  }

  // The model kept calling tools: the turn ends with what it last said.
  const reply = `Stopped after ${input.iterationLimit} iterations without a final answer.`;
  added.push({ role: 'assistant', content: reply });
  return { reply, tool_calls: records, token_usage: usage, iterations: input.iterationLimit, messages: added, finish_reason: 'iteration_limit' };
}
