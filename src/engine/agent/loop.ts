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

/**
 * One recorded step of a turn, reported before the loop moves on: the user message, each model
 * answer (with its usage) and each tool result (with its record). A turn given back its steps
 * (`resume`) goes on from the next one.
 */
export interface TurnStep {
  message: ChatMessage;
  usage?: Usage;
  record?: ToolCallRecord;
}

/** What a tool call that an interrupt stopped (or kept from starting) answers the model. */
export const INTERRUPTED_TOOL_ERROR = 'interrupted: the turn was stopped by a newer message';

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
  /**
   * Aborted when a newer message interrupts the turn: the model call in flight (streamed tokens
   * included) and the tool calls in flight stop, calls not yet started are not run, and the turn
   * ends with what the model had said so far (`finish_reason: 'interrupted'`).
   */
  interrupt?: AbortSignal;
  /** The steps of this turn recorded before a restart (from its user message on): they are not run again. */
  resume?: TurnStep[];
  /** Called with each step before the turn moves on (the ChatSession stores them to resume from). */
  onStep?: (step: TurnStep) => void | Promise<void>;
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
  /**
   * `iteration_limit` when the model was still calling tools at the limit; `interrupted` when a
   * newer message stopped the turn (its last message is the partial answer).
   */
  finish_reason: 'stop' | 'iteration_limit' | 'interrupted';
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
 * `iterationLimit` model calls have been made. Given `resume`, it goes on after the recorded
 * steps: the tool calls of the last model answer that have no result yet are run, then the model
 * is called again.
 */
export async function runAgentTurn(input: AgentTurnInput): Promise<AgentTurnResult> {
  const system: ChatMessage[] = input.systemPrompt ? [{ role: 'system', content: input.systemPrompt }] : [];
  const usage = emptyUsage();
  const records: ToolCallRecord[] = [];
  const added: ChatMessage[] = [];
  for (const step of input.resume ?? []) {
    added.push(step.message);
    if (step.usage) addUsage(usage, step.usage);
    if (step.record) records.push(step.record);
  }
  const budget = contextWindow(input.target.model_name) - (input.target.max_tokens ?? ANSWER_RESERVE);
  const emit = async (e: AgentEvent) => {
    if (input.onEvent) await input.onEvent(e);
  };
  const step = async (s: TurnStep) => {
    added.push(s.message);
    if (s.usage) addUsage(usage, s.usage);
    if (s.record) records.push(s.record);
    if (input.onStep) await input.onStep(s);
  };
  const interrupted = () => input.interrupt?.aborted === true;
  const signal = input.interrupt ? (input.signal ? AbortSignal.any([input.signal, input.interrupt]) : input.interrupt) : input.signal;
  let iteration = added.filter((m) => m.role === 'assistant').length;
  const result = (reply: string, finish_reason: AgentTurnResult['finish_reason']): AgentTurnResult => ({
    reply,
    tool_calls: records,
    token_usage: usage,
    iterations: iteration,
    messages: added,
    finish_reason,
  });
  // The turn ends with what the model said so far, marked by the finish reason.
  const stop = async (partial: string) => {
    await step({ message: { role: 'assistant', content: partial } });
    return result(partial, 'interrupted');
  };

  /** Runs the calls of the last model answer that have no result yet, in order. */
  const runCalls = async (calls: ToolCall[]) => {
    for (const call of calls) {
      const args = parseArguments(call.arguments);
      let outcome: ToolExecution;
      if (interrupted()) {
        outcome = { output: null, error: INTERRUPTED_TOOL_ERROR, duration_ms: 0 };
      } else {
        await emit({ type: 'tool_call', id: call.id, name: call.name, arguments: args });
        const toolSpan = input.trace?.startToolCall(call, args);
        outcome = await input.executeTool(call);
        if (toolSpan) input.trace!.endToolCall(toolSpan, outcome);
        if (interrupted() && outcome.error) outcome = { ...outcome, error: INTERRUPTED_TOOL_ERROR };
        await emit({ type: 'tool_result', id: call.id, name: call.name, ...outcome });
      }
      const content = outcome.error ? JSON.stringify({ error: outcome.error }) : JSON.stringify(outcome.output ?? null);
      await step({ message: { role: 'tool', content, tool_call_id: call.id, name: call.name }, record: { id: call.id, name: call.name, arguments: args, ...outcome } });
    }
  };

  if (added.length === 0) {
    await step({ message: { role: 'user', content: input.message } });
  } else {
    // Resuming: the last model answer may have tool calls still without a result.
    let lastAnswer = added.length - 1;
    while (lastAnswer >= 0 && added[lastAnswer].role !== 'assistant') lastAnswer--;
    const answer = lastAnswer >= 0 ? added[lastAnswer] : null;
    if (answer && !answer.tool_calls?.length) return result(answer.content ?? '', 'stop');
    if (answer) {
      const done = new Set(added.slice(lastAnswer + 1).map((m) => m.tool_call_id));
      await runCalls(answer.tool_calls!.filter((c) => !done.has(c.id)));
      if (interrupted()) return stop('');
    }
  }

  while (iteration < input.iterationLimit) {
    iteration++;
    const messages = trimToBudget(system, [...input.history, ...added], budget);
    const request = { messages, tools: input.tools.length ? input.tools : undefined, signal };
    let answer: ChatResult | undefined;
    let partial = '';
    const modelSpan = input.trace?.startModelCall(messages, !!input.stream);
    try {
      if (input.stream) {
        for await (const event of streamComplete(input.env, input.target, request, input.meta)) {
          if (event.type === 'token') {
            partial += event.text;
            await emit({ type: 'token', text: event.text });
          } else if (event.type === 'done') answer = event.result;
          if (interrupted()) break;
        }
      } else {
        answer = await complete(input.env, input.target, request, input.meta);
      }
    } catch (e) {
      if (!interrupted()) {
        modelSpan?.end(e);
        throw e;
      }
    }
    if (interrupted()) {
      modelSpan?.end(new Error('interrupted by a newer message'));
      return stop(partial);
    }
    if (!answer) throw new Error('The model stream ended without a result');
    if (modelSpan) input.trace!.endModelCall(modelSpan, answer);

    if (answer.tool_calls.length === 0) {
      await step({ message: { role: 'assistant', content: answer.content }, usage: answer.usage });
      return result(answer.content, 'stop');
    }
    await step({ message: { role: 'assistant', content: answer.content || null, tool_calls: answer.tool_calls }, usage: answer.usage });
    await runCalls(answer.tool_calls);
    if (interrupted()) return stop('');
  }

  // The model kept calling tools: the turn ends with what it last said.
  const reply = `Stopped after ${input.iterationLimit} iterations without a final answer.`;
  await step({ message: { role: 'assistant', content: reply } });
  return result(reply, 'iteration_limit');
}
