import { toHex } from '../../lib/crypto';

/** AWS Signature Version 4 for S3-compatible GET/HEAD requests (unsigned-payload-free: GETs have no body). */
export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const encoder = new TextEncoder();
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

async function hmac(key: Uint8Array | string, data: string): Promise<Uint8Array> {
  const raw = typeof key === 'string' ? encoder.encode(key) : key;
  const k = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, encoder.encode(data)));
}

async function sha256(data: string): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', encoder.encode(data)));
}

/** RFC 3986 encoding as SigV4 wants it (unreserved characters only; `/` kept in paths). */
export function uriEncode(s: string, keepSlash: boolean): string {
  return [...encoder.encode(s)]
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) return c;
      return '%' + b.toString(16).toUpperCase().padStart(2, '0');
    })
    .join('');
}

export const amzDate = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/**
 * The headers that sign a request: `authorization`, `x-amz-date`, `x-amz-content-sha256` (and
 * `x-amz-security-token`). `headers` are extra headers to sign (e.g. range); `host` is always signed.
 */
export async function signRequest(
  method: string,
  url: URL,
  headers: Record<string, string>,
  creds: SigV4Credentials,
  region: string,
  now = new Date(),
  service = 's3',
): Promise<Record<string, string>> {
  const datetime = amzDate(now);
  const date = datetime.slice(0, 8);
  const all: Record<string, string> = { ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim()])) };
  all.host = url.host;
  all['x-amz-date'] = datetime;
  all['x-amz-content-sha256'] = EMPTY_SHA256;
  if (creds.sessionToken) all['x-amz-security-token'] = creds.sessionToken;
  const names = Object.keys(all).sort();
  const canonicalHeaders = names.map((n) => `${n}:${all[n]}\n`).join('');
  const signedHeaders = names.join(';');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const path = uriEncode(decodeURIComponent(url.pathname), true);
  const canonicalRequest = [method, path, query, canonicalHeaders, signedHeaders, EMPTY_SHA256].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', datetime, scope, await sha256(canonicalRequest)].join('\n');
  let key = await hmac('AWS4' + creds.secretAccessKey, date);
  key = await hmac(key, region);
  key = await hmac(key, service);
  key = await hmac(key, 'aws4_request');
  const signature = toHex(await hmac(key, stringToSign));
  const out: Record<string, string> = { ...headers };
  out['x-amz-date'] = datetime;
  out['x-amz-content-sha256'] = EMPTY_SHA256;
  if (creds.sessionToken) out['x-amz-security-token'] = creds.sessionToken;
  out.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}
