import type { Env } from '../../env';
import { decryptSecret } from '../../lib/crypto';
import { ApiError } from '../../lib/errors';
import { checkOutboundUrl, guardedFetch, ssrfBlocked } from '../../lib/outbound';
import { getSecret } from '../../lib/secrets';
import { runSandboxed, type SandboxFetch } from '../sandbox';
import { readBody } from './builtin/web';
import type { ToolContext } from './types';

/** An HTTP tool as it runs: header secrets already decrypted. */
export interface HttpToolConfig {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body: string | null;
  timeout_ms: number;
}

export interface CodeToolConfig {
  source: string;
  allow_network: boolean;
  timeout_ms: number;
}

/** An HTTP tool as stored: secret header values are AES-GCM ciphertexts in `secret_headers`. */
export interface StoredHttpConfig extends Omit<HttpToolConfig, 'headers'> {
  headers: Record<string, string>;
  secret_headers: Record<string, string>;
  /** Masked forms of the secret values, made at encryption time, for display. */
  secret_masks?: Record<string, string>;
}

export const HTTP_TOOL_MAX_TIMEOUT_MS = 30_000;
export const HTTP_TOOL_MAX_BYTES = 2 * 1024 * 1024;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

/** The placeholders a template uses. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

function lookup(args: Record<string, unknown>, path: string): unknown {
  let cur: unknown = args;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

const asText = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** URL templates: every value is percent-encoded where it lands, so it cannot change the host or path structure. */
export function fillUrl(template: string, args: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => encodeURIComponent(asText(lookup(args, name))));
}

/** Header templates: CR/LF removed, so a value cannot inject another header. */
export function fillHeader(template: string, args: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => asText(lookup(args, name)).replace(/[\r\n]+/g, ' '));
}

/**
 * Body templates. In a JSON body a placeholder that is a whole string (`"{{x}}"`) becomes the
 * JSON value of x (keeping numbers, objects, ...), one inside a string is JSON-escaped, one outside
 * strings becomes the JSON value; a form body percent-encodes; any other body takes text as is.
 */
export function fillBody(template: string, args: Record<string, unknown>, contentType: string): string {
  const trimmed = template.trim();
  if (/json/i.test(contentType) || (!contentType && (trimmed.startsWith('{') || trimmed.startsWith('[')))) return fillJsonBody(template, args);
  if (/x-www-form-urlencoded/i.test(contentType)) return template.replace(PLACEHOLDER, (_m, n: string) => encodeURIComponent(asText(lookup(args, n))));
  return template.replace(PLACEHOLDER, (_m, n: string) => asText(lookup(args, n)));
}

function fillJsonBody(template: string, args: Record<string, unknown>): string {
  let out = '';
  let inString = false;
  let stringOpenedAt = -1; // out.length right after the current string's opening quote
  for (let i = 0; i < template.length; ) {
    PLACEHOLDER.lastIndex = i;
    const m = template[i] === '{' && template[i + 1] === '{' ? PLACEHOLDER.exec(template) : null;
    if (m && m.index === i) {
      const value = lookup(args, m[1]);
      const end = i + m[0].length;
      if (inString && out.length === stringOpenedAt && template[end] === '"') {
        // "{{x}}" as a whole string: replace the quotes too, keeping x's JSON type.
        out = out.slice(0, -1) + JSON.stringify(value ?? null);
        inString = false;
        i = end + 1;
      } else {
        out += inString ? JSON.stringify(asText(value)).slice(1, -1) : JSON.stringify(value ?? null);
        i = end;
      }
      continue;
    }
    const c = template[i];
    if (c === '\\' && inString) {
      out += c + (template[i + 1] ?? '');
      i += 2;
      continue;
    }
    out += c;
    i++;
    if (c === '"') {
      inString = !inString;
      if (inString) stringOpenedAt = out.length;
    }
  }
  return out;
}

/** Names whose header values are secrets: stored encrypted, returned masked. */
export function isSecretHeader(name: string): boolean {
  return /^(authorization|proxy-authorization|cookie)$/i.test(name) || /(key|token|secret|password|auth|signature|credential)/i.test(name);
}

/**
 * Save-time check of a URL template: the scheme and host must be written out (a placeholder there
 * could point the tool anywhere) and pass the SSRF guard; run time checks the filled URL again.
 */
export function checkUrlTemplate(env: Env, template: string): void {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(template.trim());
  if (!authority) throw ssrfBlocked('not a valid absolute URL');
  if (authority[0].includes('{{')) throw ssrfBlocked('the scheme and host of an HTTP tool must be written out, not placeholders');
  checkOutboundUrl(env, template.trim().replace(PLACEHOLDER, 'sample'));
}

export async function decryptHttpConfig(env: Env, stored: StoredHttpConfig): Promise<HttpToolConfig> {
  const headers = { ...stored.headers };
  const entries = Object.entries(stored.secret_headers ?? {});
  if (entries.length > 0) {
    const key = await getSecret(env, 'ENCRYPTION_KEY');
    for (const [name, ct] of entries) headers[name] = await decryptSecret(ct, key);
  }
  return { method: stored.method, url: stored.url, body: stored.body, timeout_ms: stored.timeout_ms, headers };
}

export async function runHttpTool(ctx: ToolContext, config: HttpToolConfig, args: Record<string, unknown>) {
  const url = fillUrl(config.url, args);
  const headers = new Headers();
  for (const [k, v] of Object.entries(config.headers)) headers.set(k, fillHeader(v, args));
  let body: string | undefined;
  if (config.body !== null && config.body !== '' && config.method !== 'GET') {
    body = fillBody(config.body, args, headers.get('content-type') ?? '');
    if (!headers.has('content-type')) headers.set('content-type', body.trim().startsWith('{') || body.trim().startsWith('[') ? 'application/json' : 'text/plain; charset=utf-8');
  }
  const res = await guardedFetch(ctx.env, url, { method: config.method, headers, body, signal: ctx.signal }, {
    timeoutMs: Math.min(config.timeout_ms, HTTP_TOOL_MAX_TIMEOUT_MS),
    maxBytes: HTTP_TOOL_MAX_BYTES,
  });
  const parsed = await readBody(res);
  if (!res.ok) {
    const snippet = (typeof parsed === 'string' ? parsed : JSON.stringify(parsed)).slice(0, 300);
    throw new ApiError(502, 'UPSTREAM_ERROR', `${new URL(url).host} answered ${res.status}: ${snippet}`);
  }
  return { status: res.status, content_type: res.headers.get('content-type'), body: parsed };
}

/** The sandbox's fetch, when a code tool allows network: every request through the SSRF guard. */
export function sandboxFetch(env: Env, signal?: AbortSignal): SandboxFetch {
  return async (url, init) => {
    const res = await guardedFetch(env, url, { method: init.method ?? 'GET', headers: init.headers, body: init.body, signal }, { timeoutMs: 10_000, maxBytes: 1024 * 1024 });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  };
}

export async function runCodeTool(ctx: ToolContext, config: CodeToolConfig, args: Record<string, unknown>) {
  const run = await runSandboxed({
    code: config.source,
    args,
    timeoutMs: config.timeout_ms,
    fetch: config.allow_network ? sandboxFetch(ctx.env, ctx.signal) : undefined,
  });
  return { output: run.result, logs: run.logs };
}
