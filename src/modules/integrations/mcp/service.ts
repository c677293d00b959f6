import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import type { InputDef } from '../../../engine/workflow/types';
import { applyInputDefaults, checkInputs } from '../../../engine/workflow/inputs';
import { ApiError } from '../../../lib/errors';
import { runAgent } from '../../../runs/agent-turn';
import { readableWhere } from '../../identity/permissions/authorize';
import { activeWorkflows, findActiveWorkflow, workflowAccess } from '../../workflows/workflows/store';
import { eq, type SQL } from 'drizzle-orm';
import { loadAgent, mayRunAgent, runnableDeployedAgents } from '../../agents/agents/service';
import { executeWorkflow } from '../../../runs/workflow-run';
import { APP_VERSION } from '../../health';
import { listReadableDocuments, readDocumentContent } from '../../knowledge/knowledge-bases/service';
import { toBase64 } from '../../../lib/crypto';

/**
 * The platform as an MCP server (streamable HTTP transport, stateless): JSON-RPC 2.0 requests
 * POSTed to /api/v1/mcp are answered in the response body as `application/json`. No session id is
 * issued, so there is nothing for GET (server-initiated streams) or DELETE (session end) to do:
 * both answer 405, as the transport allows.
 */

export const MCP_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
export const LATEST_MCP_PROTOCOL_VERSION = MCP_PROTOCOL_VERSIONS[0];

export const JSONRPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** MCP's code for resources/read of a URI the server does not have (2025-11-25). */
  RESOURCE_NOT_FOUND: -32002,
} as const;

type Id = string | number | null;
export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

const rpcError = (id: Id, code: number, message: string, data?: unknown): JsonRpcResponse => ({
  jsonrpc: '2.0',
  id,
  error: { code, message, ...(data !== undefined ? { data } : {}) },
});

/** Tool names are the resource id without dashes: stable, unique and within MCP's [A-Za-z0-9_-]{1,64}. */
export const agentToolName = (agentId: string) => `agent_${agentId.replace(/-/g, '')}`;
export const workflowToolName = (workflowId: string) => `workflow_${workflowId.replace(/-/g, '')}`;
const RESOURCE_TOOL = /^(agent|workflow)_([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/i;

/** How long tools/call waits for a workflow run before answering with its execution id. */
export const WORKFLOW_WAIT_MS = 60_000;

const AGENT_INPUT_SCHEMA = {
  type: 'object',
  properties: { message: { type: 'string', description: 'What to say to the agent' } },
  required: ['message'],
};

/** A workflow's input definitions as the JSON Schema of the tool's arguments (type defaults to string, as runs check). */
export function workflowInputSchema(defs: InputDef[]): Record<string, unknown> {
  const properties: Record<string, Record<string, unknown>> = {};
  for (const d of defs) {
    properties[d.name] = {
      type: d.type ?? 'string',
      ...(d.description ? { description: d.description } : {}),
      ...(d.default !== undefined ? { default: d.default } : {}),
    };
  }
  const required = defs.filter((d) => d.required && d.default === undefined).map((d) => d.name);
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

/**
 * The deployed agents (status `deployed`) and active workflows (status `active`) the caller may
 * run: their own and those shared with them at `execute` or above (admins: their own — a tool
 * list is per account), oldest first.
 */
async function listTools(env: Env, user: AuthUser) {
  const agents = (await runnableDeployedAgents(env, user)).reverse();
  const f = await runnableWorkflowFilter(env, user);
  const workflows = await activeWorkflows(env.DB, f);
  return {
    tools: [
      ...agents.map((a) => ({
        name: agentToolName(a.id),
        title: a.name,
        description: `Ask the agent "${a.name}"${a.description ? `: ${a.description}` : ''}. It answers with its reply.`,
        inputSchema: AGENT_INPUT_SCHEMA,
      })),
      ...workflows.map((w) => ({
        name: workflowToolName(w.id),
        title: w.name,
        description: `Run the workflow "${w.name}"${w.description ? `: ${w.description}` : ''}. It answers with the run's outputs.`,
        inputSchema: workflowInputSchema(JSON.parse(w.inputsSchema) as InputDef[]),
      })),
    ],
  };
}

const toolError = (text: string, structured?: Record<string, unknown>) => ({
  content: [{ type: 'text', text }],
  ...(structured ? { structuredContent: structured } : {}),
  isError: true,
});

/** Workflows the caller may run: their own and those shared with them at `execute` or above. */
async function runnableWorkflowFilter(env: Env, user: AuthUser): Promise<SQL> {
  return (await readableWhere(env, user, 'workflow', workflowAccess, 'execute')) ?? eq(workflowAccess.ownerId, user.id);
}

async function callAgent(env: Env, user: AuthUser, name: string, agentId: string, args: Record<string, unknown>, signal?: AbortSignal) {
  const agent = await loadAgent(env, agentId);
  // Only deployed agents the caller may run (authorize(): execute) are tools; anything else is an
  // unknown tool (a protocol error).
  if (!agent || agent.status !== 'deployed' || !(await mayRunAgent(env, user, agent)).allowed) throw new RpcError(JSONRPC.INVALID_PARAMS, `Unknown tool: ${name}`);
  // Arguments that do not fit the input schema are a tool execution error (MCP 2025-11-25), so the model can correct them.
  if (typeof args.message !== 'string' || !args.message) return toolError('Input validation error: arguments.message: must be a non-empty string');
  try {
    const result = await runAgent({ env, userId: user.id, agent, message: args.message, source: 'mcp', signal });
    return {
      content: [{ type: 'text', text: result.reply }],
      structuredContent: { reply: result.reply, token_usage: result.token_usage, iterations: result.iterations },
      isError: false,
    };
  } catch (e) {
    // Execution failures are tool results the calling model can see, not protocol errors.
    if (!(e instanceof ApiError)) throw e;
    return toolError(`${e.code}: ${e.message}`);
  }
}

async function callWorkflow(env: Env, user: AuthUser, name: string, workflowId: string, args: Record<string, unknown>) {
  const f = await runnableWorkflowFilter(env, user);
  const wf = await findActiveWorkflow(env.DB, workflowId, f);
  if (!wf) throw new RpcError(JSONRPC.INVALID_PARAMS, `Unknown tool: ${name}`);
  const defs = JSON.parse(wf.inputsSchema) as InputDef[];
  const problems = checkInputs(defs, applyInputDefaults(defs, args));
  if (problems.length) return toolError(`Input validation error: ${problems.map((p) => p.replace(/^inputs\./, 'arguments.')).join('; ')}`);
  let run;
  try {
    run = await executeWorkflow(env, user, wf.id, { inputs: args, trigger: 'mcp', waitMs: WORKFLOW_WAIT_MS });
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return toolError(`${e.code}: ${e.message}`);
  }
  const { execution, settled } = run;
  const ref = { execution_id: execution.id, status: execution.status };
  if (!settled) {
    return toolError(`The run did not finish within ${WORKFLOW_WAIT_MS / 1000} s; it goes on as execution ${execution.id} (status ${execution.status}): GET /api/v1/executions/${execution.id}`, ref);
  }
  if (execution.status !== 'succeeded') {
    const err = execution.error as { code?: string; message?: string } | null;
    return toolError(`Execution ${execution.id} ${execution.status}${err ? `: ${err.code ?? 'ERROR'}: ${err.message ?? ''}` : ''}`, { ...ref, error: err });
  }
  const outputs = (execution.outputs ?? {}) as Record<string, unknown>;
  return { content: [{ type: 'text', text: JSON.stringify(outputs) }], structuredContent: outputs, isError: false };
}

async function callTool(env: Env, user: AuthUser, params: Record<string, unknown>, signal?: AbortSignal) {
  const name = params.name;
  if (typeof name !== 'string') throw new RpcError(JSONRPC.INVALID_PARAMS, 'params.name: must be a string');
  const args = params.arguments ?? {};
  // Not an object: the request itself is malformed (a protocol error).
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new RpcError(JSONRPC.INVALID_PARAMS, 'params.arguments: must be an object');
  const match = RESOURCE_TOOL.exec(name);
  if (!match) throw new RpcError(JSONRPC.INVALID_PARAMS, `Unknown tool: ${name}`);
  const id = match.slice(2).join('-').toLowerCase();
  return match[1] === 'agent'
    ? callAgent(env, user, name, id, args as Record<string, unknown>, signal)
    : callWorkflow(env, user, name, id, args as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------
// Resources: the documents of the knowledge bases the caller may read

/** A document's resource URI: its knowledge base's id and its own, as the REST API shows them. */
export const documentUri = (kbId: string, documentId: string) => `tiangong://knowledge-bases/${kbId}/documents/${documentId}`;
const DOCUMENT_URI = /^tiangong:\/\/knowledge-bases\/([^/?#]+)\/documents\/([^/?#]+)$/;
export const DOCUMENT_URI_TEMPLATE = 'tiangong://knowledge-bases/{kb_id}/documents/{document_id}';

/** Resources per resources/list page; `nextCursor` leads to the next. */
export const RESOURCES_PAGE_SIZE = 50;

// The cursor is opaque to clients: the (created_at, id) of the last document of the page.
const encodeCursor = (d: { createdAt: string; id: string }) => btoa(JSON.stringify([d.createdAt, d.id]));

function decodeCursor(cursor: unknown): { createdAt: string; id: string } | null {
  if (cursor === undefined) return null;
  try {
    const value: unknown = typeof cursor === 'string' ? JSON.parse(atob(cursor)) : null;
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return { createdAt: value[0], id: value[1] };
  } catch {
    // falls through: not a cursor of ours
  }
  throw new RpcError(JSONRPC.INVALID_PARAMS, 'params.cursor: not a cursor this server issued');
}

async function listResources(env: Env, user: AuthUser, params: Record<string, unknown>) {
  const rows = await listReadableDocuments(env, user, decodeCursor(params.cursor), RESOURCES_PAGE_SIZE + 1);
  const page = rows.slice(0, RESOURCES_PAGE_SIZE);
  return {
    resources: page.map((d) => ({
      uri: documentUri(d.kbId, d.id),
      name: d.title,
      title: d.title,
      description: `A document of the knowledge base "${d.kbName}" (${d.status})`,
      mimeType: d.contentType,
      size: d.size,
    })),
    ...(rows.length > RESOURCES_PAGE_SIZE ? { nextCursor: encodeCursor(page[page.length - 1]) } : {}),
  };
}

const RESOURCE_TEMPLATES = {
  resourceTemplates: [
    {
      uriTemplate: DOCUMENT_URI_TEMPLATE,
      name: 'knowledge-base-document',
      title: 'Knowledge-base document',
      description: 'A document of a knowledge base you may read, by the ids the REST API shows (GET /api/v1/knowledge-bases/{kb_id}/documents): its text, or the uploaded file.',
    },
  ],
};

async function readResource(env: Env, user: AuthUser, params: Record<string, unknown>) {
  const uri = params.uri;
  if (typeof uri !== 'string') throw new RpcError(JSONRPC.INVALID_PARAMS, 'params.uri: must be a string');
  const notFound = new RpcError(JSONRPC.RESOURCE_NOT_FOUND, `Resource not found: ${uri}`, { uri });
  const match = DOCUMENT_URI.exec(uri);
  if (!match) throw notFound;
  let content;
  try {
    content = await readDocumentContent(env, user, decodeURIComponent(match[1]), decodeURIComponent(match[2]));
  } catch (e) {
    // A missing document and another user's (authorize(): 404) are the same to the caller.
    if (e instanceof ApiError && e.status === 404) throw notFound;
    if (e instanceof URIError) throw notFound;
    throw e;
  }
  const body = 'text' in content ? { text: content.text } : { blob: toBase64(content.bytes) };
  return { contents: [{ uri, mimeType: content.mimeType, ...body }] };
}

// ---------------------------------------------------------------------------------------------
// Prompts: the system prompts of the deployed agents the caller may run

// `{{name}}` placeholders in a system prompt are the prompt's arguments.
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const placeholders = (text: string) => [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];

/** The optional argument that adds the user's first message after the system prompt. */
const MESSAGE_ARGUMENT = 'message';

function promptArguments(systemPrompt: string) {
  const names = placeholders(systemPrompt);
  return [
    ...names.map((name) => ({ name, description: `Replaces {{${name}}} in the system prompt`, required: true })),
    ...(names.includes(MESSAGE_ARGUMENT) ? [] : [{ name: MESSAGE_ARGUMENT, description: 'A first user message to follow the system prompt', required: false }]),
  ];
}

const promptDescription = (a: { name: string; description: string | null }) => a.description || `The system prompt of the agent "${a.name}"`;

async function listPrompts(env: Env, user: AuthUser) {
  const agents = (await runnableDeployedAgents(env, user)).reverse();
  return {
    prompts: agents.map((a) => ({ name: agentToolName(a.id), title: a.name, description: promptDescription(a), arguments: promptArguments(a.system_prompt) })),
  };
}

async function getPrompt(env: Env, user: AuthUser, params: Record<string, unknown>) {
  const name = params.name;
  if (typeof name !== 'string') throw new RpcError(JSONRPC.INVALID_PARAMS, 'params.name: must be a string');
  const args = params.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new RpcError(JSONRPC.INVALID_PARAMS, 'params.arguments: must be an object');
  const values = args as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) {
    if (typeof value !== 'string') throw new RpcError(JSONRPC.INVALID_PARAMS, `params.arguments.${key}: must be a string`);
  }
  const match = RESOURCE_TOOL.exec(name);
  const agent = match?.[1] === 'agent' ? await loadAgent(env, match.slice(2).join('-').toLowerCase()) : null;
  // The same agents as the prompt list: deployed and runnable by the caller (authorize(): execute).
  if (!agent || agent.status !== 'deployed' || !(await mayRunAgent(env, user, agent)).allowed) throw new RpcError(JSONRPC.INVALID_PARAMS, `Unknown prompt: ${name}`);
  const systemPrompt = agent.system_prompt ?? '';
  const missing = promptArguments(systemPrompt).filter((a) => a.required && values[a.name] === undefined);
  if (missing.length) throw new RpcError(JSONRPC.INVALID_PARAMS, `Missing required argument(s): ${missing.map((a) => a.name).join(', ')}`);
  const text = systemPrompt.replace(PLACEHOLDER, (_, key: string) => values[key] as string);
  const message = placeholders(systemPrompt).includes(MESSAGE_ARGUMENT) ? undefined : (values[MESSAGE_ARGUMENT] as string | undefined);
  return {
    description: promptDescription(agent),
    messages: [
      { role: 'user', content: { type: 'text', text } },
      ...(message ? [{ role: 'user', content: { type: 'text', text: message } }] : []),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Logging

export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;

/**
 * logging/setLevel: the level is checked and acknowledged. Every answer of this stateless server
 * is one JSON body, never a stream, so it sends no notifications/message for the level to filter.
 */
function setLogLevel(params: Record<string, unknown>) {
  if (!(LOG_LEVELS as readonly unknown[]).includes(params.level)) throw new RpcError(JSONRPC.INVALID_PARAMS, `params.level: must be one of ${LOG_LEVELS.join(', ')}`);
  return {};
}

export const SERVER_CAPABILITIES = {
  tools: { listChanged: false },
  resources: { subscribe: false, listChanged: false },
  prompts: { listChanged: false },
  logging: {},
};

async function dispatch(env: Env, user: AuthUser, method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
  switch (method) {
    case 'initialize': {
      const requested = params.protocolVersion;
      // Echo a version we speak; otherwise offer our latest and let the client decide.
      const protocolVersion = (MCP_PROTOCOL_VERSIONS as readonly unknown[]).includes(requested) ? requested : LATEST_MCP_PROTOCOL_VERSION;
      return {
        protocolVersion,
        capabilities: SERVER_CAPABILITIES,
        serverInfo: { name: 'tiangong', title: 'Tiangong agent platform', version: APP_VERSION },
        instructions:
          'Each agent_… tool is one of your deployed agents: call it with a message and it answers. Each workflow_… tool is one of your active workflows: call it with its inputs and it answers with the run’s outputs. ' +
          'Resources are the documents of the knowledge bases you may read (tiangong://knowledge-bases/{kb_id}/documents/{document_id}); prompts are your deployed agents’ system prompts.',
      };
    }
    case 'ping':
      return {};
    case 'tools/list':
      return listTools(env, user);
    case 'tools/call':
      return callTool(env, user, params, signal);
    case 'resources/list':
      return listResources(env, user, params);
    case 'resources/templates/list':
      return RESOURCE_TEMPLATES;
    case 'resources/read':
      return readResource(env, user, params);
    case 'prompts/list':
      return listPrompts(env, user);
    case 'prompts/get':
      return getPrompt(env, user, params);
    case 'logging/setLevel':
      return setLogLevel(params);
    default:
      throw new RpcError(JSONRPC.METHOD_NOT_FOUND, `Method not found: ${method}`);
  }
}

const isId = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/** One message in; a response for requests, nothing for notifications and client responses. */
async function handleMessage(env: Env, user: AuthUser, msg: unknown, signal?: AbortSignal): Promise<JsonRpcResponse | null> {
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return rpcError(null, JSONRPC.INVALID_REQUEST, 'Invalid Request: not an object');
  const m = msg as Record<string, unknown>;
  const id: Id = isId(m.id) ? m.id : null;
  if (m.jsonrpc !== '2.0') return rpcError(id, JSONRPC.INVALID_REQUEST, 'Invalid Request: jsonrpc must be "2.0"');
  if (typeof m.method !== 'string') {
    // A response from the client (we never send requests) or garbage.
    return 'result' in m || 'error' in m ? null : rpcError(id, JSONRPC.INVALID_REQUEST, 'Invalid Request: method must be a string');
  }
  if (!('id' in m)) return null; // notifications (notifications/initialized, cancelled, ...) need no answer
  if (!isId(m.id)) return rpcError(null, JSONRPC.INVALID_REQUEST, 'Invalid Request: id must be a string or a number');
  if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) {
    return rpcError(id, JSONRPC.INVALID_PARAMS, 'params must be an object');
  }
  try {
    return { jsonrpc: '2.0', id, result: await dispatch(env, user, m.method, (m.params ?? {}) as Record<string, unknown>, signal) };
  } catch (e) {
    if (e instanceof RpcError) return rpcError(id, e.code, e.message, e.data);
    console.error(JSON.stringify({ type: 'mcp_request_failed', method: m.method, error: String(e) }));
    return rpcError(id, JSONRPC.INTERNAL_ERROR, 'Internal error');
  }
}

/**
 * A POSTed body → the HTTP answer: 200 with one response or an array (for a batch), 202 with no
 * body when it held only notifications or responses, 400 with a JSON-RPC error for a body that is
 * not JSON or an empty batch.
 */
export async function handleMcpPost(env: Env, user: AuthUser, raw: string, signal?: AbortSignal): Promise<{ status: 200 | 202 | 400; body: unknown }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { status: 400, body: rpcError(null, JSONRPC.PARSE_ERROR, 'Parse error: the body is not valid JSON') };
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return { status: 400, body: rpcError(null, JSONRPC.INVALID_REQUEST, 'Invalid Request: empty batch') };
    const responses = (await Promise.all(parsed.map((m) => handleMessage(env, user, m, signal)))).filter((r): r is JsonRpcResponse => r !== null);
    return responses.length ? { status: 200, body: responses } : { status: 202, body: null };
  }
  const response = await handleMessage(env, user, parsed, signal);
  return response ? { status: 200, body: response } : { status: 202, body: null };
}

/** A protocol version header naming one we do not speak is a client bug: 400 per the transport. */
export function checkProtocolHeader(value: string | undefined): boolean {
  return value === undefined || (MCP_PROTOCOL_VERSIONS as readonly string[]).includes(value);
}
