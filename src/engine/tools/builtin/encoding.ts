import { jwtVerify } from 'jose';
import { fromBase64, toBase64, toHex } from '../../../lib/crypto';
import { bool, int, obj, str, tool, toolInputError } from '../define';

const category = 'encoding';
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

const toUrlSafe = (b64: string) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
function decodeB64(input: string): Uint8Array {
  let s = input.replace(/\s/g, '').replace(/-/g, '+').replace(/_/g, '/');
  s += '='.repeat((4 - (s.length % 4)) % 4);
  try {
    return fromBase64(s);
  } catch {
    throw toolInputError('Not valid Base64');
  }
}

export const base64Encode = tool<{ text: string; url_safe?: boolean }>({
  name: 'base64_encode',
  category,
  description: 'Encode UTF-8 text as Base64 (standard or URL-safe).',
  description_zh: '将 UTF-8 文本编码为 Base64(标准或 URL 安全格式)。',
  parameters: obj({ text: str('The text', { maxLength: 5_000_000 }), url_safe: bool('URL-safe alphabet without padding', { default: false }) }, ['text']),
  execute({ text, url_safe = false }) {
    const b64 = toBase64(enc.encode(text));
    return { result: url_safe ? toUrlSafe(b64) : b64 };
  },
});

export const base64Decode = tool<{ data: string }>({
  name: 'base64_decode',
  category,
  description: 'Decode Base64 (standard or URL-safe, padding optional) to text; binary content comes back as hex.',
  description_zh: '解码 Base64(标准或 URL 安全格式,可无填充)为文本;二进制内容以十六进制返回。',
  parameters: obj({ data: str('Base64 data', { maxLength: 7_000_000 }) }, ['data']),
  execute({ data }) {
    const bytes = decodeB64(data);
    try {
      return { text: dec.decode(bytes), bytes: bytes.length };
    } catch {
      return { text: null, hex: toHex(bytes), bytes: bytes.length, binary: true };
    }
  },
});

export const urlEncode = tool<{ text: string; mode?: string }>({
  name: 'url_encode',
  category,
  description: 'Percent-encode text for a URL: a component (query value, path segment) or a whole URL, or build a query string from an object.',
  description_zh: 'URL 编码:编码 URL 组成部分(查询值、路径段)或整个 URL。',
  parameters: obj({ text: str('The text', { maxLength: 1_000_000 }), mode: { type: 'string', enum: ['component', 'uri', 'form'], default: 'component', description: 'component: encodeURIComponent; uri: encodeURI; form: application/x-www-form-urlencoded (spaces as +)' } }, ['text']),
  execute({ text, mode = 'component' }) {
    const result = mode === 'uri' ? encodeURI(text) : mode === 'form' ? encodeURIComponent(text).replace(/%20/g, '+') : encodeURIComponent(text);
    return { result };
  },
});

export const urlDecode = tool<{ text: string; form?: boolean }>({
  name: 'url_decode',
  category,
  description: 'Decode percent-encoded text (optionally treating + as a space, as in forms).',
  description_zh: 'URL 解码百分号编码的文本(可选把 + 视为空格)。',
  parameters: obj({ text: str('Encoded text', { maxLength: 1_000_000 }), form: bool('Treat + as a space', { default: false }) }, ['text']),
  execute({ text, form = false }) {
    try {
      return { result: decodeURIComponent(form ? text.replace(/\+/g, ' ') : text) };
    } catch {
      throw toolInputError('Malformed percent-encoding');
    }
  },
});

export const urlParse = tool<{ url: string }>({
  name: 'url_parse',
  category,
  description: 'Split a URL into scheme, host, port, path, query parameters and fragment.',
  description_zh: '解析 URL:协议、主机、端口、路径、查询参数和片段。',
  parameters: obj({ url: str('An absolute URL', { maxLength: 100000 }) }, ['url']),
  execute({ url }) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw toolInputError(`Not an absolute URL: ${url}`);
    }
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of u.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return {
      scheme: u.protocol.replace(/:$/, ''),
      username: u.username || null,
      host: u.hostname,
      port: u.port ? Number(u.port) : null,
      origin: u.origin,
      path: u.pathname,
      segments: u.pathname.split('/').filter(Boolean).map(decodeURIComponent),
      query,
      fragment: u.hash ? u.hash.slice(1) : null,
    };
  },
});

const DIGESTS: Record<string, string> = { md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

export const hash = tool<{ text: string; algorithm?: string; encoding?: string }>({
  name: 'hash',
  category,
  description: 'Hash text with MD5, SHA-1, SHA-256, SHA-384 or SHA-512 (hex or Base64).',
  description_zh: '计算文本的哈希值:MD5、SHA-1、SHA-256、SHA-384 或 SHA-512(十六进制或 Base64)。',
  parameters: obj({ text: str('The text', { maxLength: 10_000_000 }), algorithm: { type: 'string', enum: Object.keys(DIGESTS), default: 'sha256' }, encoding: { type: 'string', enum: ['hex', 'base64'], default: 'hex' } }, ['text']),
  async execute({ text, algorithm = 'sha256', encoding = 'hex' }) {
    const digest = await crypto.subtle.digest(DIGESTS[algorithm], enc.encode(text));
    return { algorithm, hash: encoding === 'base64' ? toBase64(new Uint8Array(digest)) : toHex(digest) };
  },
});

export const hmac = tool<{ message: string; key: string; algorithm?: string; encoding?: string }>({
  name: 'hmac',
  category,
  description: 'HMAC signature of a message with a key (SHA-1, SHA-256, SHA-384, SHA-512), e.g. to sign or check webhook payloads.',
  description_zh: '用密钥计算消息的 HMAC 签名(SHA-1、SHA-256、SHA-384、SHA-512),如签名或校验 Webhook 载荷。',
  parameters: obj({ message: str('The message', { maxLength: 10_000_000 }), key: str('The secret key', { minLength: 1 }), algorithm: { type: 'string', enum: ['sha1', 'sha256', 'sha384', 'sha512'], default: 'sha256' }, encoding: { type: 'string', enum: ['hex', 'base64'], default: 'hex' } }, ['message', 'key']),
  async execute({ message, key, algorithm = 'sha256', encoding = 'hex' }) {
    const k = await crypto.subtle.importKey('raw', enc.encode(key), { name: 'HMAC', hash: DIGESTS[algorithm] }, false, ['sign']);
    const sig = await crypto.subtle.sign('HMAC', k, enc.encode(message));
    return { algorithm, signature: encoding === 'base64' ? toBase64(new Uint8Array(sig)) : toHex(sig) };
  },
});

export const uuidGenerate = tool<{ count?: number; uppercase?: boolean }>({
  name: 'uuid_generate',
  category,
  description: 'Generate random UUIDs (version 4).',
  description_zh: '生成随机 UUID(v4)。',
  parameters: obj({ count: int('How many', { minimum: 1, maximum: 1000, default: 1 }), uppercase: bool('Upper-case hex', { default: false }) }),
  execute({ count = 1, uppercase = false }) {
    const ids = Array.from({ length: count }, () => crypto.randomUUID());
    return { uuids: uppercase ? ids.map((u) => u.toUpperCase()) : ids };
  },
});

export const jwtDecode = tool<{ token: string; secret?: string }>({
  name: 'jwt_decode',
  category,
  description: 'Decode a JWT: header, payload, issued/expiry times and whether it has expired; with an HS256/384/512 secret, also verify its signature.',
  description_zh: '解码 JWT:头部、载荷、签发/过期时间及是否已过期;提供 HS256/384/512 密钥时同时校验签名。',
  parameters: obj({ token: str('The JWT', { maxLength: 100000 }), secret: str('HMAC secret to verify the signature with') }, ['token']),
  async execute({ token, secret }) {
    const parts = token.trim().split('.');
    if (parts.length !== 3) throw toolInputError('A JWT has three dot-separated parts');
    const part = (p: string, what: string) => {
      try {
        return JSON.parse(dec.decode(decodeB64(p)));
      } catch {
        throw toolInputError(`The JWT ${what} is not Base64url JSON`);
      }
    };
    const header = part(parts[0], 'header');
    const payload = part(parts[1], 'payload');
    const now = Math.floor(Date.now() / 1000);
    const iso = (s: unknown) => (typeof s === 'number' ? new Date(s * 1000).toISOString() : null);
    let verified: boolean | null = null;
    let verify_error: string | null = null;
    if (secret) {
      try {
        await jwtVerify(token.trim(), enc.encode(secret), { algorithms: ['HS256', 'HS384', 'HS512'], currentDate: new Date(0) });
        verified = true;
      } catch (e) {
        verified = false;
        verify_error = e instanceof Error ? e.message : String(e);
      }
    }
    return {
      header,
      payload,
      issued_at: iso(payload.iat),
      expires_at: iso(payload.exp),
      expired: typeof payload.exp === 'number' ? payload.exp < now : null,
      verified,
      verify_error,
    };
  },
});

const CHARSETS: Record<string, string> = {
  alphanumeric: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  alpha: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  numeric: '0123456789',
  hex: '0123456789abcdef',
  password: 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#$%^&*-_=+?',
};

export const randomString = tool<{ length?: number; charset?: string; alphabet?: string; count?: number }>({
  name: 'random_string',
  category,
  description: 'Cryptographically random strings: passwords, tokens, codes (alphanumeric, letters, digits, hex, password or a custom alphabet).',
  description_zh: '生成密码学安全的随机字符串:密码、令牌、验证码(字母数字、字母、数字、十六进制、密码字符集或自定义字符表)。',
  parameters: obj({
    length: int('Characters per string', { minimum: 1, maximum: 4096, default: 16 }),
    charset: { type: 'string', enum: Object.keys(CHARSETS), default: 'alphanumeric' },
    alphabet: str('Custom characters to draw from (overrides charset)', { minLength: 2, maxLength: 1000 }),
    count: int('How many strings', { minimum: 1, maximum: 100, default: 1 }),
  }),
  execute({ length = 16, charset = 'alphanumeric', alphabet, count = 1 }) {
    const chars = [...new Set([...(alphabet ?? CHARSETS[charset])])];
    // Rejection sampling keeps every character equally likely.
    const limit = 256 - (256 % chars.length);
    const one = () => {
      let out = '';
      while (out.length < length) {
        for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
          if (chars.length <= 256 && b < limit) out += chars[b % chars.length];
          else if (chars.length > 256) out += chars[Math.floor((b / 256) * chars.length)];
          if (out.length === length) break;
        }
      }
      return out;
    };
    return { strings: Array.from({ length: count }, one) };
  },
});

export const encodingTools = [base64Encode, base64Decode, urlEncode, urlDecode, urlParse, hash, hmac, uuidGenerate, jwtDecode, randomString];
