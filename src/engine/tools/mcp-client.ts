import type { Env } from '../../env';
import { ApiError } from '../../lib/errors';
import { guardedFetch } from '../../lib/outbound';
import { readSseData } from '../../lib/sse';

/**
 * A minimal MCP client over the streamable HTTP transport, for calling remote MCP servers' tools.
 * Every request goes through guardedFetch (the SSRF guard): the server URL is the user's choice.
 * Hand-written rather than the SDK: the SDK's client would weigh on the worker's bundle budget,
 * and the platform only needs initialize, tools/list and tools/call.
 */

export interface McpEndpoint {
  url: string;
  headers?: Record<string, string>;
}

export interface RemoteMcpTool {
  name: string;
  title?: string;
  description: string;
  input_schema: Record<string, unknown>;
}

export const CLIENT_PROTOCOL_VERSION = '2025-06-18';
const TIMEOUT_MS = 30_000;

export const mcpError = (message: string) => new ApiError(502, 'MCP_ERROR', message);

interface RpcMessage {
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

export class McpSession {
  private sessionId: string | null = null;
  private protocolVersion: string | null = null;
  private nextId = 1;
  serverInfo: Record<string, unknown> | null = null;

  constructor(
    private readonly env: Env,
    private readonly endpoint: McpEndpoint,
    private readonly signal?: AbortSignal,
  ) {}

  get negotiatedVersion() {
    return this.protocolVersion;
  }

  private async post(message: Record<string, unknown>): Promise<Response> {
    const headers: Record<string, string> = { ...this.endpoint.headers, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    if (this.sessionId) headers['Mcp-Session-Id'] = this.sessionId;
    if (this.protocolVersion) headers['MCP-Protocol-Version'] = this.protocolVersion;
    const res = await guardedFetch(this.env, this.endpoint.url, { method: 'POST', headers, body: JSON.stringify(message), signal: this.signal }, { timeoutMs: TIMEOUT_MS });
    const sid = res.headers.get('mcp-session-id');
    if (sid) this.sessionId = sid;
    if (!res.ok && res.status !== 202) {
      const text = await res.text().catch(() => '');
      throw mcpError(`MCP server answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
    }
    return res;
  }

  /** A request and its response, which may come as JSON or inside an SSE stream (after notifications). */
  async request(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const res = await this.post({ jsonrpc: '2.0', id, method, params });
    let reply: RpcMessage | undefined;
    if ((res.headers.get('content-type') ?? '').includes('text/event-stream') && res.body) {
      for await (const data of readSseData(res.body)) {
        const msg = safeParse(data);
        if (msg && msg.id === id && (msg.result || msg.error)) {
          reply = msg;
          break;
        }
      }
    } else {
      const body = safeParse(await res.text());
      reply = Array.isArray(body) ? body.find((m: RpcMessage) => m?.id === id) : body;
    }
    if (!reply) throw mcpError(`MCP server sent no response to ${method}`);
    if (reply.error) throw mcpError(`MCP ${method} failed: ${reply.error.message} (${reply.error.code})`);
    return reply.result ?? {};
  }

  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    const res = await this.post({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
    await res.body?.cancel();
  }

  async initialize(): Promise<void> {
    const result = await this.request('initialize', {
      protocolVersion: CLIENT_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'tiangong', version: '1.0.0' },
    });
    this.protocolVersion = typeof result.protocolVersion === 'string' ? result.protocolVersion : CLIENT_PROTOCOL_VERSION;
    this.serverInfo = (result.serverInfo as Record<string, unknown>) ?? null;
    await this.notify('notifications/initialized');
  }

  /** Ends a stateful server's session; servers without sessions (or that refuse) are fine. */
  async close(): Promise<void> {
    if (!this.sessionId) return;
    const headers: Record<string, string> = { ...this.endpoint.headers, 'Mcp-Session-Id': this.sessionId };
    if (this.protocolVersion) headers['MCP-Protocol-Version'] = this.protocolVersion;
    await guardedFetch(this.env, this.endpoint.url, { method: 'DELETE', headers }, { timeoutMs: 5_000 })
      .then((r) => r.body?.cancel())
      .catch(() => undefined);
  }
}

function safeParse(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Opens a session, runs `fn` in it and closes it whatever happens. */
export async function withMcpSession<T>(env: Env, endpoint: McpEndpoint, fn: (s: McpSession) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const session = new McpSession(env, endpoint, signal);
  try {
    await session.initialize();
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** Every tool the server offers, following tools/list pagination. */
export async function listRemoteTools(session: McpSession): Promise<RemoteMcpTool[]> {
  const tools: RemoteMcpTool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const result = await session.request('tools/list', cursor ? { cursor } : {});
    for (const t of (result.tools as Array<Record<string, any>>) ?? []) {
      if (typeof t?.name !== 'string') continue;
      tools.push({
        name: t.name,
        ...(typeof t.title === 'string' ? { title: t.title } : {}),
        description: typeof t.description === 'string' ? t.description : '',
        input_schema: t.inputSchema && typeof t.inputSchema === 'object' ? t.inputSchema : { type: 'object' },
      });
    }
    cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
    if (!cursor) break;
  }
  return tools;
}

/**
 * tools/call → the tool's output: structured content when the server gives it, else the text of
 * a single text block, else the content blocks. A result flagged `isError` is a tool failure.
 */
export async function callRemoteTool(session: McpSession, name: string, args: Record<string, unknown>): Promise<unknown> {
  const result = await session.request('tools/call', { name, arguments: args });
  const content = Array.isArray(result.content) ? (result.content as Array<Record<string, unknown>>) : [];
  const text = content.filter((c) => c.type === 'text').map((c) => String(c.text ?? ''));
  if (result.isError) throw mcpError(`MCP tool ${name} failed: ${text.join('\n') || 'no details'}`);
  if (result.structuredContent !== undefined) return result.structuredContent;
  if (content.length === 1 && text.length === 1) return text[0];
  return content;
}
