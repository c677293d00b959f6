import {
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_WORKFLOW_NAME,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
} from '@opentelemetry/semantic-conventions/incubating';
import type { TraceSpan } from '../../queues';
import type { ChatMessage, ChatResult, ToolCall, Usage } from '../llm/types';

/**
 * Spans of agent turns, model calls, tool calls and workflow runs, following the OpenTelemetry
 * GenAI semantic conventions (the attribute names come from @opentelemetry/semantic-conventions).
 * Workers has no auto-instrumentation and a turn must not load the SDK on the request path, so
 * spans are collected here as plain {@link TraceSpan} data; the traces consumer makes them SDK
 * ReadableSpans and serializes them with @opentelemetry/otlp-transformer (./otlp.ts).
 *
 * Attributes never carry secrets: no API keys, base URLs or headers of a model target. Prompt
 * and answer contents, tool arguments and results are only recorded with `includeContent`
 * (default off) and are listed in {@link CONTENT_ATTRIBUTES}, so an export to a destination that
 * does not allow them can drop them.
 */

/** Attributes holding message or tool contents: recorded only when a destination allows it. */
export const CONTENT_ATTRIBUTES: ReadonlySet<string> = new Set([
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
]);

type Attributes = TraceSpan['attributes'];

function hexId(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** A started span; `end` records it in its trace. */
export interface OpenSpan {
  readonly spanId: string;
  set(attributes: Attributes): void;
  end(error?: unknown): void;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 500);

/** The finished spans of one unit of work (a turn with its nested turns, a workflow run), in one trace. */
export class TraceCollector {
  readonly traceId = hexId(16);
  readonly spans: TraceSpan[] = [];

  constructor(readonly includeContent: boolean) {}

  start(name: string, kind: TraceSpan['kind'], attributes: Attributes, parentSpanId?: string, startMs = Date.now()): OpenSpan {
    const span: TraceSpan = { trace_id: this.traceId, span_id: hexId(8), parent_span_id: parentSpanId, name, kind, start_ms: startMs, end_ms: startMs, attributes: { ...attributes }, status: 'unset' };
    let ended = false;
    return {
      spanId: span.span_id,
      set: (more) => Object.assign(span.attributes, more),
      end: (error) => {
        if (ended) return;
        ended = true;
        span.end_ms = Math.max(span.start_ms, Date.now());
        if (error !== undefined) {
          span.status = 'error';
          span.status_message = errorText(error);
          span.attributes['error.type'] = error instanceof Error ? error.name : 'error';
        }
        this.spans.push(span);
      },
    };
  }
}

/** What a turn's spans say about its model (no key, no base URL). */
export interface TracedModel {
  provider: string;
  model_name: string;
  temperature?: number;
  max_tokens?: number;
}

const usageAttributes = (u: Usage): Attributes => ({ [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: u.prompt_tokens, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: u.completion_tokens });

/** Content attributes are JSON text of at most this many characters (a span stays well under a queue message). */
const CONTENT_MAX_CHARS = 16_000;

const json = (v: unknown) => {
  let text: string;
  try {
    text = JSON.stringify(v) ?? 'null';
  } catch {
    text = String(v);
  }
  return text.length > CONTENT_MAX_CHARS ? `${text.slice(0, CONTENT_MAX_CHARS)}…` : text;
};

/**
 * The spans of one agent turn: the turn (`invoke_agent`), and under it each model call (`chat`)
 * and tool call (`execute_tool`). A delegated turn run by a tool call is nested under that tool
 * call's span (see {@link TurnTrace.nested}).
 */
export class TurnTrace {
  private readonly turn: OpenSpan;
  private activeTool: OpenSpan | null = null;
  private model: TracedModel = { provider: 'unknown', model_name: 'unknown' };

  constructor(
    readonly collector: TraceCollector,
    turn: { agentId: string | null; agentName: string | null; sessionId: string | null; source: string; userId: string },
    parentSpanId?: string,
  ) {
    this.turn = collector.start(
      `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT}${turn.agentName ? ` ${turn.agentName}` : ''}`,
      'internal',
      {
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
        ...(turn.agentId ? { [ATTR_GEN_AI_AGENT_ID]: turn.agentId } : {}),
        ...(turn.agentName ? { [ATTR_GEN_AI_AGENT_NAME]: turn.agentName } : {}),
        ...(turn.sessionId ? { [ATTR_GEN_AI_CONVERSATION_ID]: turn.sessionId } : {}),
        'tiangong.source': turn.source,
        'tiangong.user.id': turn.userId,
      },
      parentSpanId,
    );
  }

  /** The model the turn calls, once resolved (only its provider, name and parameters: never a key or base URL). */
  setModel(target: TracedModel): void {
    this.model = { provider: target.provider, model_name: target.model_name, temperature: target.temperature, max_tokens: target.max_tokens };
    this.turn.set({ [ATTR_GEN_AI_PROVIDER_NAME]: target.provider, [ATTR_GEN_AI_REQUEST_MODEL]: target.model_name });
  }

  /** A model call of the turn; end it with {@link endModelCall}. */
  startModelCall(messages: ChatMessage[], stream: boolean): OpenSpan {
    const m = this.model;
    const span = this.collector.start(
      `${GEN_AI_OPERATION_NAME_VALUE_CHAT} ${m.model_name}`,
      'client',
      {
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
        [ATTR_GEN_AI_PROVIDER_NAME]: m.provider,
        // The older name of the provider attribute, still read by several backends.
        [ATTR_GEN_AI_SYSTEM]: m.provider,
        [ATTR_GEN_AI_REQUEST_MODEL]: m.model_name,
        [ATTR_GEN_AI_REQUEST_STREAM]: stream,
        ...(m.temperature !== undefined ? { [ATTR_GEN_AI_REQUEST_TEMPERATURE]: m.temperature } : {}),
        ...(m.max_tokens !== undefined ? { [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: m.max_tokens } : {}),
        ...(this.collector.includeContent ? { [ATTR_GEN_AI_INPUT_MESSAGES]: json(messages.map(({ role, content, name, tool_call_id }) => ({ role, content, name, tool_call_id }))) } : {}),
      },
      this.turn.spanId,
    );
    return span;
  }

  endModelCall(span: OpenSpan, result: ChatResult): void {
    span.set({
      [ATTR_GEN_AI_RESPONSE_MODEL]: this.model.model_name,
      [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [result.tool_calls.length ? 'tool_calls' : 'stop'],
      ...usageAttributes(result.usage),
      ...(this.collector.includeContent
        ? { [ATTR_GEN_AI_OUTPUT_MESSAGES]: json([{ role: 'assistant', content: result.content, tool_calls: result.tool_calls.map(({ id, name }) => ({ id, name })) }]) }
        : {}),
    });
    span.end();
  }

  /** A tool call of the turn; a delegated turn started while it runs nests under it. */
  startToolCall(call: ToolCall, args: unknown): OpenSpan {
    const span = this.collector.start(
      `${GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL} ${call.name}`,
      'internal',
      {
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
        [ATTR_GEN_AI_TOOL_NAME]: call.name,
        [ATTR_GEN_AI_TOOL_CALL_ID]: call.id,
        [ATTR_GEN_AI_TOOL_TYPE]: 'function',
        ...(this.collector.includeContent ? { [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: json(args) } : {}),
      },
      this.turn.spanId,
    );
    this.activeTool = span;
    return span;
  }

  endToolCall(span: OpenSpan, outcome: { output: unknown; error?: string }): void {
    if (this.activeTool === span) this.activeTool = null;
    if (this.collector.includeContent && !outcome.error) span.set({ [ATTR_GEN_AI_TOOL_CALL_RESULT]: json(outcome.output) });
    span.end(outcome.error ? new Error(outcome.error) : undefined);
  }

  /** Where a turn started by the running tool call (a sub-agent) puts its spans. */
  nested(): { collector: TraceCollector; parentSpanId: string } {
    return { collector: this.collector, parentSpanId: (this.activeTool ?? this.turn).spanId };
  }

  /** Ends the turn span with the turn's total usage, or its error. */
  end(usage: Usage | null, error?: unknown): void {
    if (usage) this.turn.set(usageAttributes(usage));
    this.turn.end(error);
  }
}

/** A workflow run and its nodes, as recorded when the run ended. */
export interface TracedRun {
  execution_id: string;
  workflow_id: string | null;
  workflow_name?: string | null;
  user_id: string;
  trigger?: string | null;
  status: string;
  started_at: string | null;
  finished_at: string | null;
  error?: { code: string; message: string } | null;
}

export interface TracedNode {
  node_id: string;
  type: string;
  label?: string;
  status: string;
  attempts: number;
  usage: Usage;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  error?: { code: string; message: string };
  reused_from?: string;
}

/**
 * The spans of a finished workflow run: the run (`invoke_workflow`) and one child per node that
 * ran (skipped and pending nodes have no span; a node reused by a retry or fork keeps a span
 * marked `tiangong.node.reused_from`), timed by the recorded node states.
 */
export function workflowRunSpans(run: TracedRun, nodes: TracedNode[]): TraceSpan[] {
  const collector = new TraceCollector(false);
  const ms = (iso: string | null | undefined, fallback: number) => (iso ? Date.parse(iso) : fallback);
  const now = Date.now();
  const runStart = ms(run.started_at, now);
  const name = run.workflow_name ?? run.workflow_id ?? 'inline';
  const root = collector.start(`${GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW} ${name}`, 'internal', {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
    [ATTR_GEN_AI_WORKFLOW_NAME]: name,
    'tiangong.execution.id': run.execution_id,
    ...(run.workflow_id ? { 'tiangong.workflow.id': run.workflow_id } : {}),
    ...(run.trigger ? { 'tiangong.trigger': run.trigger } : {}),
    'tiangong.execution.status': run.status,
    'tiangong.user.id': run.user_id,
  }, undefined, runStart);
  const total: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const n of nodes) {
    if (!n.started_at || ['pending', 'skipped'].includes(n.status)) continue;
    const start = ms(n.started_at, runStart);
    const span = collector.start(`workflow.node ${n.type}${n.label ? ` ${n.label}` : ''}`, 'internal', {
      'tiangong.node.id': n.node_id,
      'tiangong.node.type': n.type,
      'tiangong.node.status': n.status,
      'tiangong.node.attempts': n.attempts,
      ...(n.reused_from ? { 'tiangong.node.reused_from': n.reused_from } : {}),
      ...(n.usage.total_tokens ? usageAttributes(n.usage) : {}),
    }, root.spanId, start);
    total.prompt_tokens += n.usage.prompt_tokens;
    total.completion_tokens += n.usage.completion_tokens;
    total.total_tokens += n.usage.total_tokens;
    span.end(n.status === 'failed' ? new Error(n.error ? `${n.error.code}: ${n.error.message}` : 'failed') : undefined);
    const last = collector.spans[collector.spans.length - 1];
    last.end_ms = n.finished_at ? Math.max(start, Date.parse(n.finished_at)) : start + (n.duration_ms ?? 0);
  }
  if (total.total_tokens) root.set(usageAttributes(total));
  root.end(run.status === 'failed' ? new Error(run.error ? `${run.error.code}: ${run.error.message}` : 'failed') : undefined);
  const rootSpan = collector.spans[collector.spans.length - 1];
  rootSpan.end_ms = Math.max(runStart, ms(run.finished_at, now));
  return collector.spans;
}

/** Spans without the content attributes (for a destination that does not allow them). */
export function withoutContent(spans: TraceSpan[]): TraceSpan[] {
  return spans.map((s) => ({ ...s, attributes: Object.fromEntries(Object.entries(s.attributes).filter(([k]) => !CONTENT_ATTRIBUTES.has(k))) }));
}
