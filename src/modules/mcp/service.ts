import type { Env } from '../../env';
import type { AuthUser } from '../../lib/auth';
import { ApiError } from '../../lib/errors';
import { runAgent } from '../agents/runner';
import { loadAgent, mayRunAgent, runnableDeployedAgents } from '../agents/service';
import { APP_VERSION } from '../health';

/**
 * The platform as an MCP server (streamable HTTP transport, stateless): JSON-RPC 2.0 requests
 * POSTed to /api/v1/mcp are answered in the response body as `application/json`. No session id is
 * issued, so there is nothing for GET (server-initiated streams) or DELETE (session end) to do:
 * both answer 405, as the transport allows.
 */

export const MCP_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
export const LATEST_MCP_PROTOCOL_VERSION = MCP_PROTOCOL_VERSIONS[0];

export const JSONRPC = { PARSE_ERROR: -32700, INVALID_REQUEST: -32600, METHOD_NOT_FOUND: -32601, INVALID_PARAMS: -32602, INTERNAL_ERROR: -32603 } as const;

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
  ) {
    super(message);
  }
}

const rpcError = (id: Id, code: number, message: string): JsonRpcResponse => ({ jsonrpc: '2.0', id, error: { code, message } });

/** Tool names are the agent id without dashes: stable, unique and within MCP's [A-Za-z0-9_-]{1,64}. */
export const agentToolName = (agentId: string) => `agent_${agentId.replace(/-/g, '')}`;
const AGENT_TOOL = /^agent_([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/i;

const AGENT_INPUT_SCHEMA = {
  type: 'object',
  properties: { message: { type: 'string', description: 'What to say to the agent' } },
  required: ['message'],
};

async function listTools(env: Env, user: AuthUser) {
  // The deployed agents the caller may run (theirs and those shared with them at execute), oldest first.
  const results = (await runnableDeployedAgents(env, user)).reverse();
  return {
    tools: results.map((a) => ({
      name: agentToolName(a.id),
      title: a.name,
      description: `Ask the agent "${a.name}"${a.description ? `: ${a.description}` : ''}. It answers with its reply.`,
      inputSchema: AGENT_INPUT_SCHEMA,
    })),
  };
}

async function callTool(env: Env, user: AuthUser, params: Record<string, unknown>, signal?: AbortSignal) {
  const name = params.name;
  if (typeof name !== 'string') throw new RpcError(JSONRPC.INVALID_PARAMS, 'params.name: must be a string');
  const match = AGENT_TOOL.exec(name);
  const agent = match ? await loadAgent(env, match.slice(1).join('-').toLowerCase()) : null;
  // Only deployed agents the caller may run (authorize(): execute) are tools; anything else is an
  // unknown tool (a protocol error).
  if (!agent || agent.status !== 'deployed' || !(await mayRunAgent(env, user, agent)).allowed) throw new RpcError(JSONRPC.INVALID_PARAMS, `Unknown tool: ${name}`);
  const args = (params.arguments ?? {}) as Record<string, unknown>;
  if (typeof args !== 'object' || Array.isArray(args) || typeof args.message !== 'string' || !args.message) {
    throw new RpcError(JSONRPC.INVALID_PARAMS, 'arguments.message: must be a non-empty string');
  }
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
    return { content: [{ type: 'text', text: `${e.code}: ${e.message}` }], isError: true };
  }
}

async function dispatch(env: Env, user: AuthUser, method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
  switch (method) {
    case 'initialize': {
      const requested = params.protocolVersion;
      // Echo a version we speak; otherwise offer our latest and let the client decide.
      const protocolVersion = (MCP_PROTOCOL_VERSIONS as readonly unknown[]).includes(requested) ? requested : LATEST_MCP_PROTOCOL_VERSION;
      return {
        protocolVersion,
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: 'tiangong', title: 'Tiangong agent platform', version: APP_VERSION },
        instructions: "Each tool is one of your deployed agents: call it with a message and it answers.",
      };
    }
    case 'ping':
      return {};
    case 'tools/list':
      return listTools(env, user);
    case 'tools/call':
      return callTool(env, user, params, signal);
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
    if (e instanceof RpcError) return rpcError(id, e.code, e.message);
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
