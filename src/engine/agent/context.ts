import { estimatePromptTokens } from '../llm/tokens';
import type { ChatMessage } from '../llm/types';

/** Context windows of known model families, in tokens; unknown models get a conservative 8k. */
const CONTEXT_WINDOWS: Array<[RegExp, number]> = [
  [/^mock/, 8_192],
  [/gpt-4o|gpt-4\.1|gpt-5|o[134]-/i, 128_000],
  [/deepseek/i, 64_000],
  [/qwen|moonshot|kimi|glm/i, 32_000],
  [/llama-3\.[123]/i, 8_192],
];
export const DEFAULT_CONTEXT_WINDOW = 8_192;
/** Tokens kept free for the answer when the request sets no max_tokens. */
export const ANSWER_RESERVE = 1_024;

export function contextWindow(modelName: string): number {
  return CONTEXT_WINDOWS.find(([re]) => re.test(modelName))?.[1] ?? DEFAULT_CONTEXT_WINDOW;
}

/**
 * Fits a conversation into `budget` tokens: the system prompt and the newest messages are kept,
 * the oldest turns dropped first. A turn is dropped whole (from a user message up to the next),
 * so a tool result is never kept without the assistant message that called it.
 */
export function trimToBudget(system: ChatMessage[], history: ChatMessage[], budget: number): ChatMessage[] {
  const room = budget - estimatePromptTokens(system);
  // From the newest message back, only as far as the budget reaches (the estimate is additive):
  // the cost of a call follows what is kept, not the length of a long session.
  // `from` is the oldest turn start (a user message, or the very first message) that fits.
  let from = -1;
  let lastUser = -1;
  let used = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    used += estimatePromptTokens([history[i]]);
    if (used > room) break;
    if (i === 0 || history[i].role === 'user') from = i;
  }
  if (from >= 0) return [...system, ...history.slice(from)];
  // Even the newest turn alone is too long: keep its last user message at least.
  for (let i = history.length - 1; i >= 0 && lastUser < 0; i--) if (history[i].role === 'user') lastUser = i;
  return [...system, ...(lastUser >= 0 ? [history[lastUser]] : history.slice(-1))];
}
