import { constantTimeEqual, fromBase64, sha256Hex } from '../../lib/crypto';

/**
 * Feishu (Lark) event subscription protocol, no routing: decrypting `{"encrypt": ...}` bodies,
 * checking `X-Lark-Signature`, and reading the parts of an event the platform uses.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** How far a request's timestamp may be from now (Feishu signs each delivery when it sends it). */
export const SIGNATURE_MAX_SKEW_SECONDS = 300;

const keys = new Map<string, Promise<CryptoKey>>();

/** AES-256-CBC key = SHA-256(encrypt key), as Feishu derives it. */
function aesKey(encryptKey: string): Promise<CryptoKey> {
  let key = keys.get(encryptKey);
  if (!key) {
    key = crypto.subtle.digest('SHA-256', encoder.encode(encryptKey)).then((raw) => crypto.subtle.importKey('raw', raw, 'AES-CBC', false, ['decrypt']));
    keys.set(encryptKey, key);
  }
  return key;
}

/** Decrypts an `encrypt` field: base64 of IV (16 bytes) + AES-256-CBC ciphertext, PKCS#7 padded. */
export async function decryptEvent(encrypted: string, encryptKey: string): Promise<string> {
  const buf = fromBase64(encrypted);
  if (buf.length < 32 || buf.length % 16 !== 0) throw new Error('encrypted payload has an invalid length');
  // WebCrypto's AES-CBC removes (and checks) the PKCS#7 padding.
  const plain = await crypto.subtle.decrypt({ name: 'AES-CBC', iv: buf.slice(0, 16) }, await aesKey(encryptKey), buf.slice(16));
  return decoder.decode(plain);
}

export interface SignatureHeaders {
  timestamp: string | undefined;
  nonce: string | undefined;
  signature: string | undefined;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** `X-Lark-Signature` = hex SHA-256(timestamp + nonce + encrypt key + raw body), and a fresh timestamp. */
export async function verifySignature(h: SignatureHeaders, rawBody: string, encryptKey: string, nowMs = Date.now()): Promise<SignatureCheck> {
  if (!h.timestamp || !h.nonce || !h.signature) return { ok: false, reason: 'missing signature headers' };
  const ts = Number(h.timestamp);
  if (!Number.isFinite(ts) || Math.abs(nowMs / 1000 - ts) > SIGNATURE_MAX_SKEW_SECONDS) return { ok: false, reason: 'stale or invalid timestamp' };
  const expected = await sha256Hex(h.timestamp + h.nonce + encryptKey + rawBody);
  return constantTimeEqual(expected, h.signature.toLowerCase()) ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}

/** The verification token of a payload: `header.token` (schema 2.0) or `token` (1.0, url_verification). */
export function payloadToken(payload: Record<string, unknown>): string | undefined {
  const header = payload.header as { token?: unknown } | undefined;
  const token = header?.token ?? payload.token;
  return typeof token === 'string' ? token : undefined;
}

export interface Mention {
  key: string;
  id?: { open_id?: string; union_id?: string; user_id?: string };
  name?: string;
}

export interface MessageEvent {
  event_id: string;
  message_id: string;
  chat_id: string;
  chat_type: 'p2p' | 'group' | string;
  message_type: string;
  content: string;
  mentions: Mention[];
  sender_open_id: string;
  sender_type: string;
}

/** The fields of an `im.message.receive_v1` event (schema 2.0); null when it is not one. */
export function readMessageEvent(payload: Record<string, unknown>): MessageEvent | null {
  const header = payload.header as { event_id?: string; event_type?: string } | undefined;
  const event = payload.event as
    | { sender?: { sender_id?: { open_id?: string }; sender_type?: string }; message?: Record<string, unknown> }
    | undefined;
  if (header?.event_type !== 'im.message.receive_v1' || !event?.message || !header.event_id) return null;
  const m = event.message;
  return {
    event_id: header.event_id,
    message_id: String(m.message_id ?? ''),
    chat_id: String(m.chat_id ?? ''),
    chat_type: String(m.chat_type ?? ''),
    message_type: String(m.message_type ?? ''),
    content: String(m.content ?? ''),
    mentions: Array.isArray(m.mentions) ? (m.mentions as Mention[]) : [],
    sender_open_id: event.sender?.sender_id?.open_id ?? '',
    sender_type: event.sender?.sender_type ?? 'user',
  };
}

/**
 * The text of a text message: `content` is a JSON string `{"text": "..."}` in which mentions
 * appear as `@_user_1` placeholders; they are removed. Null for other message types.
 */
export function messageText(msg: Pick<MessageEvent, 'message_type' | 'content' | 'mentions'>): string | null {
  if (msg.message_type !== 'text') return null;
  let text: unknown;
  try {
    text = (JSON.parse(msg.content) as { text?: unknown }).text;
  } catch {
    return null;
  }
  if (typeof text !== 'string') return null;
  for (const m of msg.mentions) if (m.key) text = (text as string).split(m.key).join('');
  return (text as string).replace(/@_all\b/g, '').replace(/\s+/g, ' ').trim();
}

/**
 * Whether a group message is addressed to the bot. With the bot's open_id known, a mention of it;
 * without, Feishu only delivers group messages that mention the bot (unless the app has the
 * "read all group messages" scope), so a mention of anyone who is not a user counts.
 */
export function mentionsBot(mentions: Mention[], botOpenId: string | undefined): boolean {
  if (botOpenId) return mentions.some((m) => m.id?.open_id === botOpenId);
  return mentions.some((m) => !m.id?.user_id);
}
