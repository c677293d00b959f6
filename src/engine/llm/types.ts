/** The model gateway's one interface: every agent, workflow, goal and RAG answer speaks it. */

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as the model produced them: a JSON object encoded as a string. */
  arguments: string;
}

export interface ChatMessage {
  role: Role;
  content: string | null;
  /** Assistant messages that call tools. */
  tool_calls?: ToolCall[];
  /** Tool messages: the call this is the result of. */
  tool_call_id?: string;
  /** Tool messages: the tool's name. */
  name?: string;
}

/** A function the model may call, described by a JSON Schema for its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ToolSpec[];
  temperature?: number;
  max_tokens?: number;
  /** `json` asks for a JSON object as the content. */
  response_format?: 'text' | 'json';
  /** Cancels the call when the caller goes away. */
  signal?: AbortSignal;
  /** Per-attempt timeout (default 60 s). */
  timeout_ms?: number;
}

export interface ChatResult {
  content: string;
  tool_calls: ToolCall[];
  usage: Usage;
  finish_reason: 'stop' | 'tool_calls' | 'length' | 'error';
  model: string;
}

/** What a streaming call yields: text deltas and whole tool calls, then the final result. */
export type StreamEvent =
  | { type: 'token'; text: string }
  | { type: 'tool_call'; call: ToolCall }
  | { type: 'done'; result: ChatResult };

export interface LlmProvider {
  readonly name: string;
  /** Whether the gateway retries its 429/5xx failures (deterministic providers opt out). */
  readonly retryable?: boolean;
  chat(request: ChatRequest): Promise<ChatResult>;
  stream(request: ChatRequest): AsyncIterable<StreamEvent>;
}

export const emptyUsage = (): Usage => ({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });

export function addUsage(into: Usage, more: Usage): Usage {
  into.prompt_tokens += more.prompt_tokens;
  into.completion_tokens += more.completion_tokens;
  into.total_tokens += more.total_tokens;
  return into;
}
