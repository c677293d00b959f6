import type { Env } from '../env';
import { ApiError } from './errors';
import { isProduction } from './secrets';

/**
 * The one outbound-fetch guard. Every request the platform makes to an address a user chose
 * (HTTP tools, web tools, model providers with a base URL, webhooks, data sources, Feishu) goes
 * through `guardedFetch`, which refuses private, loopback, link-local and metadata destinations in
 * every spelling, follows redirects by hand re-checking each hop, and bounds time and size.
 *
 * Hostnames are checked by name, not resolved: Workers has no DNS API, and on Cloudflare a
 * Worker's subrequests cannot reach private networks anyway. This guard is what keeps local
 * development, other runtimes and name-based tricks (localhost, *.internal, metadata hosts) safe.
 */

export interface OutboundOptions {
  /** Per-request timeout, redirects included (default 15 s). */
  timeoutMs?: number;
  /** Response body cap in bytes (default 5 MiB). */
  maxBytes?: number;
  /** Redirects followed by hand, each re-checked (default 5). */
  maxRedirects?: number;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;

export const ssrfBlocked = (reason: string) => new ApiError(400, 'SSRF_BLOCKED', `Outbound request blocked: ${reason}`);

const BLOCKED_NAMES = new Set(['localhost', 'metadata.google.internal', 'metadata', 'instance-data', 'kubernetes.default']);
const BLOCKED_SUFFIXES = ['.localhost', '.internal', '.local', '.localdomain', '.home.arpa', '.intranet', '.lan', '.corp'];

function allowedPorts(env: Env): Set<string> {
  const extra = (env.OUTBOUND_ALLOWED_PORTS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return new Set(['', '80', '443', ...extra]);
}

/** `host:port` pairs let through as they are; for tests' local fakes, never honoured in production. */
function exemptHosts(env: Env): Set<string> {
  if (isProduction(env)) return new Set();
  return new Set((env.OUTBOUND_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean));
}

/**
 * Parses and checks a destination; throws 400 `SSRF_BLOCKED` with the reason. The WHATWG URL
 * parser canonicalises IPv4 spellings (2130706433, 0177.0.0.1, 0x7f.1, 127.1 → 127.0.0.1) and
 * IPv6 forms, so the checks below see one spelling of each address.
 */
export function checkOutboundUrl(env: Env, raw: string | URL): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw ssrfBlocked('not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw ssrfBlocked(`scheme ${url.protocol} is not allowed`);
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const port = url.port;
  if (exemptHosts(env).has(`${host}:${port || (url.protocol === 'https:' ? '443' : '80')}`)) return url;
  if (!allowedPorts(env).has(port)) throw ssrfBlocked(`port ${port} is not allowed`);
  if (!host) throw ssrfBlocked('empty host');

  if (host.startsWith('[')) {
    const reason = blockedIpv6(host.slice(1, -1));
    if (reason) throw ssrfBlocked(`${host} is ${reason}`);
    return url;
  }
  const v4 = parseIpv4(host);
  if (v4) {
    const reason = blockedIpv4(v4);
    if (reason) throw ssrfBlocked(`${host} is ${reason}`);
    return url;
  }
  if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((s) => host.endsWith(s))) throw ssrfBlocked(`${host} is an internal name`);
  if (!host.includes('.')) throw ssrfBlocked(`${host} is not a public domain name`);
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) throw ssrfBlocked(`${host} is not a valid address`);
  return url;
}

function parseIpv4(host: string): number[] | null {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function blockedIpv4([a, b, c]: number[]): string | null {
  if (a === 0) return 'an unspecified address';
  if (a === 127) return 'a loopback address';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'a private address';
  if (a === 169 && b === 254) return 'a link-local (cloud metadata) address';
  if (a === 100 && b >= 64 && b <= 127) return 'a carrier-grade NAT address';
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return 'a reserved address';
  if (a === 198 && (b === 18 || b === 19)) return 'a benchmarking address';
  if ((a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return 'a documentation address';
  if (a >= 224 && a <= 239) return 'a multicast address';
  if (a >= 240) return 'a reserved address';
  return null;
}

/** Eight 16-bit groups of an IPv6 address (as the URL parser prints it), or null. */
function parseIpv6(text: string): number[] | null {
  let s = text.toLowerCase();
  const dotted = s.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]);
    if (!v4) return null;
    s = s.slice(0, -dotted[1].length) + `${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array(Math.max(0, fill)).fill('0'), ...tail];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

function blockedIpv6(text: string): string | null {
  const g = parseIpv6(text);
  if (!g) return 'not a valid IPv6 address';
  const zeroPrefix = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroPrefix(8)) return 'an unspecified address';
  if (zeroPrefix(7) && g[7] === 1) return 'a loopback address';
  const embedded = [g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255];
  if (zeroPrefix(5) && g[5] === 0xffff) return `an IPv4-mapped address (${blockedIpv4(embedded) ?? 'mapped IPv4 is not allowed'})`;
  if (zeroPrefix(6)) return 'an IPv4-compatible address';
  if (g[0] === 0x64 && g[1] === 0xff9b) return 'a NAT64 address';
  if ((g[0] & 0xfe00) === 0xfc00) return 'a unique-local address';
  if ((g[0] & 0xffc0) === 0xfe80 || (g[0] & 0xffc0) === 0xfec0) return 'a link-local address';
  if ((g[0] & 0xff00) === 0xff00) return 'a multicast address';
  if (g[0] === 0x2001 && g[1] === 0x0db8) return 'a documentation address';
  if (g[0] === 0x2002) return 'a 6to4 address';
  if (g[0] === 0x2001 && g[1] === 0) return 'a Teredo address';
  return null;
}

// Headers that must never leave with a request to a user-chosen address.
const STRIPPED_HEADERS = ['cookie', 'cf-connecting-ip', 'x-forwarded-for', 'x-real-ip', 'cf-access-jwt-assertion'];

/**
 * fetch() for user-chosen destinations: every hop checked, redirects followed by hand, a
 * timeout over the whole exchange, and a response body capped at `maxBytes`.
 * Failures: 400 `SSRF_BLOCKED`, 504 `UPSTREAM_TIMEOUT`, 502 `UPSTREAM_ERROR`.
 */
export async function guardedFetch(env: Env, input: string | URL, init: RequestInit = {}, options: OutboundOptions = {}): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;

  let url = checkOutboundUrl(env, input);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body ?? null;
  const headers = new Headers(init.headers);
  for (const h of STRIPPED_HEADERS) headers.delete(h);

  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(url.toString(), { method, headers, body, redirect: 'manual', signal });
    } catch (e) {
      if (timeout.aborted) throw new ApiError(504, 'UPSTREAM_TIMEOUT', `No answer from ${url.host} within ${timeoutMs} ms`);
      if (init.signal?.aborted) throw e;
      throw new ApiError(502, 'UPSTREAM_ERROR', `Request to ${url.host} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      if (hop >= maxRedirects) throw new ApiError(502, 'UPSTREAM_ERROR', `More than ${maxRedirects} redirects`);
      await res.body?.cancel();
      const next = checkOutboundUrl(env, new URL(location, url));
      if (next.origin !== url.origin) headers.delete('authorization');
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = null;
        headers.delete('content-type');
      }
      url = next;
      continue;
    }
    return capBody(res, maxBytes, url.host);
  }
}

function capBody(res: Response, maxBytes: number, host: string): Response {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.body?.cancel();
    throw new ApiError(502, 'UPSTREAM_ERROR', `Response from ${host} exceeds ${maxBytes} bytes`);
  }
  if (!res.body) return res;
  let seen = 0;
  const limiter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > maxBytes) controller.error(new ApiError(502, 'UPSTREAM_ERROR', `Response from ${host} exceeds ${maxBytes} bytes`));
      else controller.enqueue(chunk);
    },
  });
  return new Response(res.body.pipeThrough(limiter), { status: res.status, statusText: res.statusText, headers: res.headers });
}

/**
 * The same destination rules for raw TCP connections (databases, Redis): the host must be a
 * public name or address. Any port is allowed — databases do not listen on 80/443 — except that
 * `host:port` pairs in OUTBOUND_ALLOWED_HOSTS are let through as they are (tests, never production).
 */
export function checkOutboundSocket(env: Env, host: string, port: number): void {
  const name = host.trim().toLowerCase();
  if (!name) throw ssrfBlocked('empty host');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw ssrfBlocked(`port ${port} is not valid`);
  const bracketed = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
  if (exemptHosts(env).has(`${bracketed}:${port}`)) return;
  // The URL parser canonicalises the host exactly as for HTTP; the port is checked above instead.
  checkOutboundUrl(env, `http://${bracketed}/`);
}
