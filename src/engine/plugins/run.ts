import { ApiError } from '../../lib/errors';
import { guardedFetch } from '../../lib/outbound';
import { readBody } from '../tools/builtin/web';
import { HTTP_TOOL_MAX_BYTES } from '../tools/custom';
import type { ToolContext } from '../tools/types';
import type { PluginAuth, PluginOperation } from './openapi';

const asText = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * Calls one operation: path parameters percent-encoded into the path (they cannot change the
 * host), query and header parameters set, `body` sent as JSON, and the installer's credentials
 * applied as the document's security scheme says. Through the SSRF guard like every HTTP tool.
 */
export async function runOperation(ctx: ToolContext, baseUrl: string, auth: PluginAuth, settings: Record<string, string>, op: PluginOperation, args: Record<string, unknown>) {
  const path = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(asText(args[name] ?? '')));
  const url = new URL(baseUrl + path);
  const headers = new Headers({ accept: 'application/json' });
  let body: string | undefined;
  for (const [name, where] of Object.entries(op.locations)) {
    const value = args[name];
    if (value === undefined || value === null) continue;
    if (where === 'query') url.searchParams.set(name, asText(value));
    else if (where === 'header') headers.set(name, asText(value).replace(/[\r\n]+/g, ' '));
    else if (where === 'body') {
      body = JSON.stringify(value);
      headers.set('content-type', 'application/json');
    }
  }
  if (auth.type === 'api_key' && auth.in === 'query') url.searchParams.set(auth.name!, settings.api_key ?? '');
  else if (auth.type === 'api_key') headers.set(auth.name!, settings.api_key ?? '');
  else if (auth.type === 'bearer') headers.set('authorization', `Bearer ${settings.token ?? ''}`);
  else if (auth.type === 'basic') headers.set('authorization', `Basic ${btoa(`${settings.username ?? ''}:${settings.password ?? ''}`)}`);
  const res = await guardedFetch(ctx.env, url, { method: op.method, headers, body, signal: ctx.signal }, { timeoutMs: 30_000, maxBytes: HTTP_TOOL_MAX_BYTES });
  const parsed = await readBody(res);
  if (!res.ok) {
    const snippet = (typeof parsed === 'string' ? parsed : JSON.stringify(parsed)).slice(0, 300);
    throw new ApiError(502, 'UPSTREAM_ERROR', `${url.host} answered ${res.status}: ${snippet}`);
  }
  return { status: res.status, body: parsed };
}
