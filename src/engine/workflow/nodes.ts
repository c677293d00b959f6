import { z } from 'zod';
import type { Env } from '../../env';
import { ApiError } from '../../lib/errors';
import { guardedFetch } from '../../lib/outbound';
import { complete, defaultTarget, type ModelTarget } from '../llm/gateway';
import type { ChatMessage, ChatResult, Usage } from '../llm/types';
import { runSandboxed } from '../sandbox';
import { invokeTool } from '../tools/invoke';
import { ConditionGroupSchema, evaluateGroup } from './conditions';
import { GraphSchema } from './graph-schema';
import type { CallRecord, Graph, InputDef, NodeDef, WaitInfo } from './types';
import { DEFAULT_PORT, ERROR_PORT, NodeError } from './types';
import { lookup, refPath, renderText, resolveDeep, stringify, type Scope } from './variables';

/** What the engine offers a node besides its configuration. */
export interface EngineServices {
  /** A workflow of the run's owner (sub-workflow node); null when missing or not theirs. */
  loadWorkflow(id: string): Promise<{ id: string; graph: Graph; inputs_schema: InputDef[] } | null>;
  /** Records a pending approval; only durable top-level runs provide it. */
  createApproval?(req: {
    node_id: string;
    title: string;
    description: string;
    approver_id: string | null;
    timeout_at: string | null;
  }): Promise<{ approval_id: string }>;
  /**
   * One turn of an agent of the run's owner (null: the agent whose run this is). Provided where
   * the agents module is available; the agent node fails with UNSUPPORTED elsewhere.
   */
  runAgent?(agentId: string | null, message: string, signal: AbortSignal): Promise<{
    agent_id: string;
    reply: string;
    usage: Usage;
    iterations: number;
    tool_calls: Array<{ name: string; duration_ms: number; error?: string }>;
  }>;
}

export interface SubRunResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  outputs: Record<string, unknown>;
  error?: { code: string; message: string; node_id?: string };
  calls: CallRecord[];
  usage: Usage;
}

export interface NodeContext {
  env: Env;
  userId: string;
  executionId: string;
  workflowId: string | null;
  node: NodeDef;
  scope: Scope;
  signal: AbortSignal;
  /** Inside a loop/iteration body or a sub-workflow: nothing may suspend the run there. */
  nested: boolean;
  depth: number;
  /** When this node first started (survives restarts: a delay waits only what remains). */
  startedMs: number;
  services: EngineServices;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, data?: unknown): void;
  recordCall(call: CallRecord): void;
  addUsage(usage: Usage): void;
  /** Outputs of the nodes whose edges into this node were taken, merged. */
  upstream(): Record<string, unknown>;
  /** Runs a nested graph in memory with `inputs` and the current scope visible. */
  runGraph(graph: Graph, inputs: Record<string, unknown>, opts?: { isolated?: boolean; workflowId?: string }): Promise<SubRunResult>;
}

export type NodeResult = { output: Record<string, unknown>; branch?: string } | { wait: WaitInfo };

export interface NodeType<C = any> {
  type: string;
  description: string;
  config: z.ZodType<C>;
  /** Output ports for this configuration (empty for terminal nodes). */
  ports(config: C): string[];
  /** Output fields known up front, or null when they depend on data. */
  outputs(config: C): string[] | null;
  /** Keys of the config that are not resolved up front (conditions, bodies). */
  rawKeys?: string[];
  /** Nested graphs (loop/iteration bodies): validated and run with their own scope. */
  bodies?(config: C): Graph[];
  /** Variables a body may read besides its own nodes and the outer scope. */
  bodyInputs?: string[];
  /** Ends a run (its output becomes part of the run's outputs). */
  terminal?: boolean;
  run(ctx: NodeContext, config: C, resolved: Record<string, unknown>): Promise<NodeResult>;
  /** Finishes a node that suspended the run (an approval decided, a delay elapsed). */
  resume?(ctx: NodeContext, config: C, resolution: Record<string, unknown>): NodeResult;
}

// ------------------------------------------------------------------------------------------
// Shared helpers

const ModelSchema = z
  .object({
    provider: z.string().min(1).optional(),
    model_name: z.string().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.int().min(1).max(200_000).optional(),
  })
  .optional();

function targetFor(env: Env, model: z.infer<typeof ModelSchema>): ModelTarget {
  const base = model?.provider && model.model_name ? { provider: model.provider, model_name: model.model_name } : defaultTarget(env);
  return { ...base, temperature: model?.temperature, max_tokens: model?.max_tokens };
}

/** Errors a node raised, as the engine records them. 4xx are not worth retrying; 429/5xx are. */
export function toNodeError(e: unknown): NodeError {
  if (e instanceof NodeError) return e;
  if (e instanceof ApiError) return new NodeError(e.code, e.message, e.status >= 500 || e.status === 429);
  if (e instanceof Error && e.name === 'AbortError') return new NodeError('CANCELLED', 'The node was cancelled', false);
  return new NodeError('NODE_ERROR', e instanceof Error ? e.message : String(e));
}

export async function callModel(
  ctx: NodeContext,
  model: z.infer<typeof ModelSchema>,
  messages: ChatMessage[],
  responseFormat: 'text' | 'json' = 'text',
): Promise<ChatResult> {
  const target = targetFor(ctx.env, model);
  const started = Date.now();
  const name = `${target.provider}/${target.model_name}`;
  try {
    const result = await complete(
      ctx.env,
      target,
      { messages, response_format: responseFormat, signal: ctx.signal },
      { user_id: ctx.userId, source: 'workflow' },
    );
    ctx.recordCall({ kind: 'llm', name, status: 'succeeded', started_at: new Date(started).toISOString(), duration_ms: Date.now() - started, usage: result.usage });
    ctx.addUsage(result.usage);
    ctx.log('debug', `Model ${name} answered`, { usage: result.usage });
    return result;
  } catch (e) {
    ctx.recordCall({ kind: 'llm', name, status: 'failed', started_at: new Date(started).toISOString(), duration_ms: Date.now() - started, error: String((e as Error)?.message ?? e) });
    throw e;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new NodeError('CANCELLED', 'The node was cancelled', false));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new NodeError('CANCELLED', 'The node was cancelled', false));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
export { sleep as abortableSleep };

/** First JSON object in a text (models often wrap JSON in prose or code fences). */
export function extractJsonObject(text: string): Record<string, unknown> | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end <= start) return null;
  try {
    const v = JSON.parse(text.slice(start, end + 1));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

const identifier = z.string().regex(/^[A-Za-z_]\w{0,63}$/, 'must be an identifier');
const portId = z.string().regex(/^[A-Za-z_][\w-]{0,63}$/, 'must be an identifier');
const out = () => [DEFAULT_PORT];

// ------------------------------------------------------------------------------------------
// Node types

const start: NodeType<Record<string, never>> = {
  type: 'start',
  description: 'Entry point; its output is the run inputs ({{inputs.x}} or {{start.x}}).',
  config: z.object({}).passthrough() as unknown as z.ZodType<Record<string, never>>,
  ports: out,
  outputs: () => null,
  async run(ctx) {
    return { output: { ...((ctx.scope.inputs as Record<string, unknown>) ?? {}) } };
  },
};

const EndConfig = z.object({ outputs: z.record(z.string(), z.unknown()).default({}) });
const end: NodeType<z.infer<typeof EndConfig>> = {
  type: 'end',
  description: 'Ends the run; `outputs` (name → value or reference) become the run outputs; without outputs, the output of the nodes before it.',
  config: EndConfig,
  ports: () => [],
  outputs: (c) => (Object.keys(c.outputs).length ? Object.keys(c.outputs) : null),
  terminal: true,
  async run(ctx, c, resolved) {
    if (!Object.keys(c.outputs).length) return { output: ctx.upstream() };
    return { output: (resolved.outputs as Record<string, unknown>) ?? {} };
  },
};

const AnswerConfig = z.object({ answer: z.string().min(1) });
const answer: NodeType<z.infer<typeof AnswerConfig>> = {
  type: 'answer',
  description: 'A text answer (template over variables); ends the run or continues.',
  config: AnswerConfig,
  ports: out,
  outputs: () => ['answer'],
  terminal: true,
  async run(ctx, c) {
    return { output: { answer: renderText(c.answer, ctx.scope) } };
  },
};

const LlmConfig = z.object({
  model: ModelSchema,
  system_prompt: z.string().max(100_000).optional(),
  prompt: z.string().min(1).max(100_000),
  response_format: z.enum(['text', 'json']).default('text'),
});
const llm: NodeType<z.infer<typeof LlmConfig>> = {
  type: 'llm',
  description: 'One model call: system prompt and user prompt (templates) → text (and json).',
  config: LlmConfig,
  ports: out,
  outputs: () => ['text', 'json', 'usage', 'model'],
  async run(ctx, c) {
    const messages: ChatMessage[] = [];
    if (c.system_prompt) messages.push({ role: 'system', content: renderText(c.system_prompt, ctx.scope) });
    messages.push({ role: 'user', content: renderText(c.prompt, ctx.scope) });
    const r = await callModel(ctx, c.model, messages, c.response_format);
    return { output: { text: r.content, json: c.response_format === 'json' ? extractJsonObject(r.content) : null, usage: r.usage, model: r.model } };
  },
};

const AgentConfig = z.object({
  /** An agent the run's principal may execute (the owner's, or shared with them); default: the agent whose run this is. */
  agent_id: z.uuid().optional(),
  prompt: z.string().min(1).max(100_000).default('{{inputs.message}}'),
});
const agent: NodeType<z.infer<typeof AgentConfig>> = {
  type: 'agent',
  description: "One turn of an agent (its model, system prompt and tools) on the prompt → {text, tool_calls, usage}.",
  config: AgentConfig,
  ports: out,
  outputs: () => ['text', 'tool_calls', 'usage', 'iterations', 'agent_id'],
  rawKeys: ['prompt'],
  async run(ctx, c) {
    if (!ctx.services.runAgent) throw new NodeError('UNSUPPORTED', 'Agents are not available here', false);
    const started = Date.now();
    const turn = await ctx.services.runAgent(c.agent_id ?? null, renderText(c.prompt, ctx.scope), ctx.signal);
    ctx.addUsage(turn.usage);
    ctx.recordCall({
      kind: 'llm',
      name: `agent ${turn.agent_id}`,
      status: 'succeeded',
      started_at: new Date(started).toISOString(),
      duration_ms: Date.now() - started,
      usage: turn.usage,
      children: turn.tool_calls.map((t) => ({
        kind: 'tool' as const,
        name: t.name,
        status: t.error ? ('failed' as const) : ('succeeded' as const),
        started_at: new Date(started).toISOString(),
        duration_ms: t.duration_ms,
        error: t.error,
      })),
    });
    return { output: { text: turn.reply, tool_calls: turn.tool_calls, usage: turn.usage, iterations: turn.iterations, agent_id: turn.agent_id } };
  },
};

const ClassifierConfig = z.object({
  query: z.string().min(1),
  classes: z
    .array(z.object({ id: portId, name: z.string().min(1).max(100), description: z.string().max(1000).optional() }))
    .min(2)
    .max(20),
  instruction: z.string().max(10_000).optional(),
  /** The class taken when the answer names none (default: the last class). */
  default_class: z.string().optional(),
  model: ModelSchema,
});
const questionClassifier: NodeType<z.infer<typeof ClassifierConfig>> = {
  type: 'question_classifier',
  description: 'Routes by the class a model assigns to the query; one output port per class id.',
  config: ClassifierConfig,
  ports: (c) => c.classes.map((k) => k.id),
  outputs: () => ['class_id', 'class_name', 'text'],
  async run(ctx, c) {
    const list = c.classes.map((k) => `- ${k.name}${k.description ? `: ${k.description}` : ''}`).join('\n');
    const system =
      `Classify the user's text into exactly one of these classes and answer with the class name only.\n${list}` +
      (c.instruction ? `\n${renderText(c.instruction, ctx.scope)}` : '');
    const query = renderText(c.query, ctx.scope);
    const r = await callModel(ctx, c.model, [
      { role: 'system', content: system },
      { role: 'user', content: query },
    ]);
    const chosen = pickClass(r.content, c.classes) ?? c.classes.find((k) => k.id === c.default_class) ?? c.classes[c.classes.length - 1];
    return { output: { class_id: chosen.id, class_name: chosen.name, text: r.content }, branch: chosen.id };
  },
};

/** The class an answer names: `{"class": ...}`, an exact name, else the first name it mentions. */
export function pickClass<T extends { id: string; name: string }>(answerText: string, classes: T[]): T | undefined {
  const json = extractJsonObject(answerText);
  const named = typeof json?.class === 'string' ? json.class : answerText;
  const text = named.trim().toLowerCase();
  const exact = classes.find((k) => k.name.toLowerCase() === text || k.id.toLowerCase() === text);
  if (exact) return exact;
  let best: { k: T; at: number } | undefined;
  for (const k of classes) {
    const at = text.indexOf(k.name.toLowerCase());
    if (at !== -1 && (!best || at < best.at)) best = { k, at };
  }
  return best?.k;
}

const ParamSchema = z.object({
  name: identifier,
  type: z.enum(['string', 'number', 'boolean', 'array', 'object']).default('string'),
  description: z.string().max(1000).optional(),
  required: z.boolean().default(false),
});
const ExtractorConfig = z.object({
  query: z.string().min(1),
  parameters: z.array(ParamSchema).min(1).max(50),
  instruction: z.string().max(10_000).optional(),
  model: ModelSchema,
});
const parameterExtractor: NodeType<z.infer<typeof ExtractorConfig>> = {
  type: 'parameter_extractor',
  description: 'A model turns text into JSON by a parameter schema; missing required parameters fail the node.',
  config: ExtractorConfig,
  ports: out,
  outputs: (c) => c.parameters.map((p) => p.name),
  async run(ctx, c) {
    const schema = Object.fromEntries(c.parameters.map((p) => [p.name, { type: p.type, description: p.description ?? '', required: p.required }]));
    const system =
      `Extract these parameters from the user's text and answer with one JSON object only: ${JSON.stringify(schema)}` +
      (c.instruction ? `\n${renderText(c.instruction, ctx.scope)}` : '');
    const r = await callModel(ctx, c.model, [
      { role: 'system', content: system },
      { role: 'user', content: renderText(c.query, ctx.scope) },
    ], 'json');
    const values = extractParameters(r.content, c.parameters);
    const missing = c.parameters.filter((p) => p.required && (values[p.name] === null || values[p.name] === undefined));
    if (missing.length) throw new NodeError('EXTRACTION_FAILED', `Missing required parameters: ${missing.map((p) => p.name).join(', ')}`);
    return { output: values };
  },
};

/**
 * Parameters from a model answer: its JSON object when it has one, otherwise `name: value` /
 * `name = value` pairs in the text; each value coerced to its declared type (null if it won't).
 */
export function extractParameters(text: string, params: Array<z.infer<typeof ParamSchema>>): Record<string, unknown> {
  const json = extractJsonObject(text);
  const out: Record<string, unknown> = {};
  for (const p of params) {
    let raw: unknown = json?.[p.name];
    if (raw === undefined) {
      const m = text.match(new RegExp(`(?:^|[\\s,;{(])"?${p.name}"?\\s*[:=]\\s*(?:"([^"]*)"|([^,;\\n}]+))`, 'i'));
      raw = m ? (m[1] ?? m[2]).trim() : undefined;
    }
    out[p.name] = coerce(raw, p.type);
  }
  return out;
}

function coerce(v: unknown, type: string): unknown {
  if (v === undefined || v === null || v === '') return null;
  switch (type) {
    case 'number': {
      const n = typeof v === 'number' ? v : Number(String(v).replace(/[^\d.eE+-]/g, ''));
      return Number.isFinite(n) ? n : null;
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      return ['true', 'yes', '1', 'y'].includes(String(v).toLowerCase()) ? true : ['false', 'no', '0', 'n'].includes(String(v).toLowerCase()) ? false : null;
    case 'array':
      if (Array.isArray(v)) return v;
      try {
        const parsed = JSON.parse(String(v));
        return Array.isArray(parsed) ? parsed : null;
      } catch {
        return String(v).split(/\s*[|/]\s*|\s+and\s+/).filter(Boolean);
      }
    case 'object':
      if (typeof v === 'object') return v;
      try {
        const parsed = JSON.parse(String(v));
        return parsed && typeof parsed === 'object' ? parsed : null;
      } catch {
        return null;
      }
    default:
      return typeof v === 'string' ? v : JSON.stringify(v);
  }
}

const ConditionConfig = z.object({
  cases: z.array(ConditionGroupSchema.extend({ id: portId })).min(1).max(20),
});
const condition: NodeType<z.infer<typeof ConditionConfig>> = {
  type: 'condition',
  description: 'If / elif / else: the first case whose conditions hold picks its port, else `else`.',
  config: ConditionConfig,
  ports: (c) => [...c.cases.map((k) => k.id), 'else'],
  outputs: () => ['matched'],
  rawKeys: ['cases'],
  async run(ctx, c) {
    const hit = c.cases.find((k) => evaluateGroup(k, ctx.scope));
    const matched = hit?.id ?? 'else';
    return { output: { matched }, branch: matched };
  },
};

const HttpConfig = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
  url: z.string().min(1).max(4096),
  headers: z.record(z.string(), z.string()).default({}),
  query: z.record(z.string(), z.unknown()).default({}),
  /** A string is sent as is; anything else as JSON. */
  body: z.unknown().optional(),
  timeout_ms: z.int().min(1).max(120_000).default(15_000),
  /** Treat 4xx/5xx answers as a result instead of a node error. */
  allow_error_status: z.boolean().default(false),
});
const httpRequest: NodeType<z.infer<typeof HttpConfig>> = {
  type: 'http_request',
  description: 'An HTTP request through the SSRF guard → {status, headers, body, json}.',
  config: HttpConfig,
  ports: out,
  outputs: () => ['status', 'headers', 'body', 'json'],
  async run(ctx, _c, r) {
    const c = r as z.infer<typeof HttpConfig>;
    let url: URL;
    try {
      url = new URL(stringify(c.url));
    } catch {
      throw new NodeError('INVALID_URL', `Not an absolute URL: ${stringify(c.url).slice(0, 200)}`, false);
    }
    for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, stringify(v));
    const headers = new Headers(Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k, stringify(v)])));
    let body: string | undefined;
    if (c.body !== undefined && c.body !== null && c.method !== 'GET' && c.method !== 'HEAD') {
      body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
      if (typeof c.body !== 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const started = Date.now();
    const call = (status: 'succeeded' | 'failed', error?: string) =>
      ctx.recordCall({ kind: 'http', name: `${c.method} ${url.host}${url.pathname}`, status, started_at: new Date(started).toISOString(), duration_ms: Date.now() - started, error });
    let res: Response;
    let text: string;
    try {
      res = await guardedFetch(ctx.env, url, { method: c.method, headers, body, signal: ctx.signal }, { timeoutMs: c.timeout_ms, maxBytes: 2 * 1024 * 1024 });
      text = await res.text();
    } catch (e) {
      call('failed', String((e as Error)?.message ?? e));
      throw e;
    }
    call(res.status < 400 ? 'succeeded' : 'failed', res.status < 400 ? undefined : `HTTP ${res.status}`);
    let json: unknown = null;
    if (/json/i.test(res.headers.get('content-type') ?? '')) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (res.status >= 400 && !c.allow_error_status) {
      throw new NodeError('HTTP_ERROR', `HTTP ${res.status} from ${url.host}: ${text.slice(0, 200)}`, res.status >= 500 || res.status === 429);
    }
    return { output: { status: res.status, headers: Object.fromEntries(res.headers), body: text, json } };
  },
};


const CodeConfig = z.object({
  /** JavaScript; the result is `main(args)` if it defines main, else its last expression. */
  code: z.string().min(1).max(100_000),
  /** Values (or references) passed as `args`. */
  inputs: z.record(z.string(), z.unknown()).default({}),
  timeout_ms: z.int().min(10).max(30_000).default(5000),
  /** Let the code call fetch() (through the SSRF guard). */
  allow_network: z.boolean().default(false),
});
const code: NodeType<z.infer<typeof CodeConfig>> = {
  type: 'code',
  description: "User JavaScript in the QuickJS sandbox → {result, logs} (an object result's fields are outputs too).",
  config: CodeConfig,
  ports: out,
  outputs: () => null,
  rawKeys: ['code'],
  async run(ctx, c, r) {
    const run = await runSandboxed({
      code: c.code,
      args: (r.inputs as Record<string, unknown>) ?? {},
      timeoutMs: c.timeout_ms,
      fetch: c.allow_network
        ? async (url, init) => {
            const res = await guardedFetch(ctx.env, url, { method: init.method, headers: init.headers, body: init.body, signal: ctx.signal });
            return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
          }
        : undefined,
    });
    for (const line of run.logs.slice(0, 50)) ctx.log('debug', `console: ${line}`);
    const fields = run.result && typeof run.result === 'object' && !Array.isArray(run.result) ? (run.result as Record<string, unknown>) : {};
    return { output: { ...fields, result: run.result, logs: run.logs } };
  },
};

const ToolConfig = z.object({ tool: z.string().min(1).max(200), arguments: z.record(z.string(), z.unknown()).default({}) });
const tool: NodeType<z.infer<typeof ToolConfig>> = {
  type: 'tool',
  description: 'Runs a registry tool with arguments (values may reference variables) → {result}.',
  config: ToolConfig,
  ports: out,
  outputs: () => ['result', 'duration_ms'],
  async run(ctx, c, r) {
    const started = Date.now();
    try {
      const outcome = await invokeTool(
        { env: ctx.env, userId: ctx.userId, caller: 'workflow', signal: ctx.signal },
        c.tool,
        (r.arguments as Record<string, unknown>) ?? {},
      );
      ctx.recordCall({ kind: 'tool', name: c.tool, status: 'succeeded', started_at: new Date(started).toISOString(), duration_ms: outcome.duration_ms });
      return { output: { result: outcome.output, duration_ms: outcome.duration_ms } };
    } catch (e) {
      ctx.recordCall({ kind: 'tool', name: c.tool, status: 'failed', started_at: new Date(started).toISOString(), duration_ms: Date.now() - started, error: String((e as Error)?.message ?? e) });
      throw e;
    }
  },
};

const TemplateConfig = z.object({ template: z.string().max(100_000) });
const template: NodeType<z.infer<typeof TemplateConfig>> = {
  type: 'template',
  description: 'String templating over variables → {text}.',
  config: TemplateConfig,
  ports: out,
  outputs: () => ['text'],
  rawKeys: ['template'],
  async run(ctx, c) {
    return { output: { text: renderText(c.template, ctx.scope) } };
  },
};

const AssignerConfig = z.object({
  assignments: z.array(z.object({ name: identifier, value: z.unknown() })).min(1).max(50),
});
const variableAssigner: NodeType<z.infer<typeof AssignerConfig>> = {
  type: 'variable_assigner',
  description: 'Sets named variables ({{vars.name}} downstream, and {{<node>.name}}).',
  config: AssignerConfig,
  ports: out,
  outputs: (c) => c.assignments.map((a) => a.name),
  async run(_ctx, _c, r) {
    const assignments = r.assignments as Array<{ name: string; value: unknown }>;
    return { output: Object.fromEntries(assignments.map((a) => [a.name, a.value ?? null])) };
  },
};

const AggregatorConfig = z.object({
  variables: z.array(z.string().min(1)).min(1).max(50),
  mode: z.enum(['first', 'list', 'object']).default('first'),
});
const variableAggregator: NodeType<z.infer<typeof AggregatorConfig>> = {
  type: 'variable_aggregator',
  description: 'Joins branches: the first non-empty of several variables, all of them as a list, or as an object.',
  config: AggregatorConfig,
  ports: out,
  outputs: () => ['output'],
  rawKeys: ['variables'],
  async run(ctx, c) {
    const entries = c.variables.map((v) => [refPath(v), lookup(ctx.scope, refPath(v))] as const);
    const present = entries.filter(([, v]) => v !== undefined && v !== null);
    if (c.mode === 'list') return { output: { output: present.map(([, v]) => v) } };
    if (c.mode === 'object') return { output: { output: Object.fromEntries(entries.map(([k, v]) => [k, v ?? null])) } };
    return { output: { output: present[0]?.[1] ?? null } };
  },
};

const BodySchema = GraphSchema;

const IterationConfig = z.object({
  /** A reference to a list (`{{search.items}}`) or a literal list. */
  items: z.unknown(),
  body: BodySchema,
  concurrency: z.int().min(1).max(20).default(1),
  max_items: z.int().min(1).max(1000).default(100),
});
const iteration: NodeType<z.infer<typeof IterationConfig>> = {
  type: 'iteration',
  description: 'Maps a body graph over a list ({{inputs.item}}, {{inputs.index}} inside) with a concurrency limit → {results}.',
  config: IterationConfig,
  ports: out,
  outputs: () => ['results', 'count'],
  rawKeys: ['body'],
  bodies: (c) => [c.body as Graph],
  bodyInputs: ['item', 'index', 'items'],
  async run(ctx, c, r) {
    let items: unknown = r.items;
    if (typeof items === 'string') {
      const text: string = items;
      try {
        items = JSON.parse(text);
      } catch {
        items = text.split('\n').filter((s) => s.trim());
      }
    }
    if (!Array.isArray(items)) throw new NodeError('INVALID_INPUT', 'iteration.items is not a list', false);
    const list: unknown[] = items;
    if (list.length > c.max_items) throw new NodeError('INVALID_INPUT', `iteration.items has ${list.length} items; max_items is ${c.max_items}`, false);
    const results: unknown[] = new Array(list.length);
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const index = next++;
        const sub = await ctx.runGraph(c.body as Graph, { item: list[index], index, items: list });
        if (sub.status !== 'succeeded') throw new NodeError(sub.error?.code ?? 'ITERATION_FAILED', `item ${index}: ${sub.error?.message ?? sub.status}`);
        results[index] = sub.outputs;
      }
    };
    await Promise.all(Array.from({ length: Math.min(c.concurrency, list.length) }, worker));
    return { output: { results, count: list.length } };
  },
};

const LoopConfig = z.object({
  body: BodySchema,
  /** Checked after each pass over `state.<name>` and `iteration` (1 after the first pass). */
  until: ConditionGroupSchema.optional(),
  max_iterations: z.int().min(1).max(1000).default(10),
  /** The state before the first pass; each pass's end outputs are merged into it. */
  initial: z.record(z.string(), z.unknown()).default({}),
});
const loop: NodeType<z.infer<typeof LoopConfig>> = {
  type: 'loop',
  description: 'Repeats a body graph ({{inputs.iteration}} from 1, {{inputs.state}}) until a condition holds, at most max_iterations times → {state, iterations}.',
  config: LoopConfig,
  ports: out,
  outputs: () => ['state', 'iterations', 'stopped_by'],
  rawKeys: ['body', 'until'],
  bodies: (c) => [c.body as Graph],
  bodyInputs: ['iteration', 'state'],
  async run(ctx, c, r) {
    let state = { ...((r.initial as Record<string, unknown>) ?? {}) };
    for (let i = 1; i <= c.max_iterations; i++) {
      const sub = await ctx.runGraph(c.body as Graph, { iteration: i, state });
      if (sub.status !== 'succeeded') throw new NodeError(sub.error?.code ?? 'LOOP_FAILED', `iteration ${i}: ${sub.error?.message ?? sub.status}`);
      state = { ...state, ...sub.outputs };
      if (c.until && evaluateGroup(c.until, { ...ctx.scope, state, iteration: i })) {
        return { output: { state, iterations: i, stopped_by: 'condition' } };
      }
    }
    return { output: { state, iterations: c.max_iterations, stopped_by: 'max_iterations' } };
  },
};

const ApprovalConfig = z.object({
  title: z.string().min(1).max(200).default('Approval required'),
  description: z.string().max(10_000).default(''),
  /** The user who decides (the owner may always decide). */
  approver_id: z.uuid().optional(),
  /** Without a decision by then the run takes the `timeout` port. */
  timeout_seconds: z.int().min(1).max(30 * 86400).optional(),
});
const humanApproval: NodeType<z.infer<typeof ApprovalConfig>> = {
  type: 'human_approval',
  description: 'Pauses the run until a person approves or rejects (ports approved / rejected / timeout).',
  config: ApprovalConfig,
  ports: (c) => (c.timeout_seconds ? ['approved', 'rejected', 'timeout'] : ['approved', 'rejected']),
  outputs: () => ['decision', 'comment', 'decided_by'],
  async run(ctx, c, r) {
    if (ctx.nested || !ctx.services.createApproval) {
      throw new NodeError('UNSUPPORTED', 'human_approval can only run at the top level of a workflow run', false);
    }
    const until = c.timeout_seconds ? ctx.startedMs + c.timeout_seconds * 1000 : undefined;
    const { approval_id } = await ctx.services.createApproval({
      node_id: ctx.node.id,
      title: stringify(r.title),
      description: stringify(r.description),
      approver_id: c.approver_id ?? null,
      timeout_at: until ? new Date(until).toISOString() : null,
    });
    return { wait: { kind: 'approval', approval_id, until } };
  },
  resume(_ctx, _c, res) {
    const decision = String(res.decision);
    return { output: { decision, comment: res.comment ?? null, decided_by: res.decided_by ?? null }, branch: decision };
  },
};

const SubWorkflowConfig = z.object({
  workflow_id: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()).default({}),
});
export const MAX_DEPTH = 5;
const subWorkflow: NodeType<z.infer<typeof SubWorkflowConfig>> = {
  type: 'sub_workflow',
  description: 'Runs another workflow (one the run’s principal may execute) with inputs; its outputs become this node’s output.',
  config: SubWorkflowConfig,
  ports: out,
  outputs: () => null,
  async run(ctx, c, r) {
    if (ctx.depth >= MAX_DEPTH) throw new NodeError('MAX_DEPTH', `Sub-workflows nest at most ${MAX_DEPTH} deep`, false);
    const wf = await ctx.services.loadWorkflow(c.workflow_id);
    if (!wf) throw new NodeError('NOT_FOUND', `Workflow ${c.workflow_id} not found`, false);
    const inputs = applyInputDefaults(wf.inputs_schema, (r.inputs as Record<string, unknown>) ?? {});
    const started = Date.now();
    const sub = await ctx.runGraph(wf.graph, inputs, { isolated: true, workflowId: wf.id });
    ctx.recordCall({
      kind: 'workflow',
      name: wf.id,
      status: sub.status === 'succeeded' ? 'succeeded' : 'failed',
      started_at: new Date(started).toISOString(),
      duration_ms: Date.now() - started,
      usage: sub.usage,
      children: sub.calls,
      error: sub.error?.message,
    });
    if (sub.status !== 'succeeded') throw new NodeError(sub.error?.code ?? 'SUB_WORKFLOW_FAILED', `Sub-workflow failed: ${sub.error?.message ?? sub.status}`, false);
    return { output: sub.outputs };
  },
};

/** Delays of at least this long suspend a durable run (an alarm wakes it); shorter ones sleep. */
export const DURABLE_DELAY_MS = 5000;
const DelayConfig = z.object({ duration_ms: z.int().min(0).max(7 * 86400_000) });
const delay: NodeType<z.infer<typeof DelayConfig>> = {
  type: 'delay',
  description: 'Waits; long waits cost nothing (the run sleeps until an alarm).',
  config: DelayConfig,
  ports: out,
  outputs: () => ['waited_ms'],
  async run(ctx, c) {
    const until = ctx.startedMs + c.duration_ms;
    if (!ctx.nested && ctx.services.createApproval && c.duration_ms >= DURABLE_DELAY_MS) {
      return { wait: { kind: 'delay', until } };
    }
    const remaining = until - Date.now();
    if (remaining > 0) await sleep(remaining, ctx.signal);
    return { output: { waited_ms: c.duration_ms } };
  },
  resume(_ctx, c) {
    return { output: { waited_ms: c.duration_ms } };
  },
};

// ------------------------------------------------------------------------------------------

/**
 * Every node type the engine runs. Not here yet: `knowledge_retrieval` (needs RAG).
 */
export const nodeTypes: Record<string, NodeType> = Object.fromEntries(
  [
    start, end, answer, llm, agent, questionClassifier, parameterExtractor, condition, httpRequest, code, tool, template,
    variableAssigner, variableAggregator, iteration, loop, humanApproval, subWorkflow, delay,
  ].map((t) => [t.type, t as NodeType]),
);

/** Registers a node type that another module provides (agent, code, knowledge retrieval). */
export function registerNodeType(t: NodeType): void {
  nodeTypes[t.type] = t;
}

export function applyInputDefaults(schema: InputDef[], inputs: Record<string, unknown>): Record<string, unknown> {
  const out = { ...inputs };
  for (const def of schema) if (out[def.name] === undefined && def.default !== undefined) out[def.name] = def.default;
  return out;
}

/** Checks run inputs against a workflow's input definitions; returns problems. */
export function checkInputs(schema: InputDef[], inputs: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const def of schema) {
    const v = inputs[def.name];
    if (v === undefined || v === null) {
      if (def.required) problems.push(`inputs.${def.name}: required`);
      continue;
    }
    const t = def.type ?? 'string';
    const actual = Array.isArray(v) ? 'array' : typeof v;
    if (actual !== t) problems.push(`inputs.${def.name}: expected ${t}, got ${actual}`);
  }
  return problems;
}

export { ERROR_PORT, resolveDeep };
