import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { FakeHandler } from './server';

/**
 * A fake of Feishu's open API (token, bot info, message reply/send; a reply to a message whose id
 * starts with `om_outage` fails with 503), recording what the worker
 * sent, plus `/feishu/_sign`: Feishu's side of the event protocol — AES-256-CBC encryption and
 * X-Lark-Signature — done with Node's crypto, independently of the worker's WebCrypto code.
 */
export interface FeishuCall {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
  /** False when the fake refused the access token. */
  accepted: boolean;
}

const state = { calls: [] as FeishuCall[], tokenSerial: 0, validTokens: new Set<string>(), tokenTtl: 7200, failToken: false, revoke: false };

const json = (res: Parameters<FakeHandler>[1], status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

function encrypt(plain: string, key: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(key).digest(), iv);
  return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

export const feishuFake: FakeHandler = async (req, res, raw, url) => {
  const path = url.pathname.slice('/feishu'.length);
  const body = raw.length ? JSON.parse(raw.toString('utf8')) : null;

  if (path === '/_reset') {
    Object.assign(state, { calls: [], tokenTtl: body?.token_ttl ?? 7200, failToken: body?.fail_token ?? false, revoke: false });
    state.validTokens.clear();
    return json(res, 200, { ok: true });
  }
  if (path === '/_calls') return json(res, 200, state.calls);
  if (path === '/_revoke') {
    state.validTokens.clear();
    return json(res, 200, { ok: true });
  }
  if (path === '/_sign') {
    // {payload, encrypt_key, encrypt: bool, timestamp?, nonce?}: the request Feishu would send.
    const plain = JSON.stringify(body.payload);
    const rawBody = body.encrypt ? JSON.stringify({ encrypt: encrypt(plain, body.encrypt_key) }) : plain;
    const timestamp = String(body.timestamp ?? Math.floor(Date.now() / 1000));
    const nonce = body.nonce ?? randomBytes(8).toString('hex');
    const signature = createHash('sha256').update(timestamp + nonce + body.encrypt_key + rawBody).digest('hex');
    return json(res, 200, { body: rawBody, headers: { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': signature } });
  }

  const call: FeishuCall = { method: req.method ?? 'GET', path: path + url.search, authorization: req.headers.authorization, body, accepted: true };
  state.calls.push(call);

  if (path === '/open-apis/auth/v3/tenant_access_token/internal') {
    if (state.failToken || body?.app_secret !== 'feishu-app-secret') return json(res, 200, { code: 10014, msg: 'app secret invalid' });
    const token = `t-${++state.tokenSerial}`;
    state.validTokens.add(token);
    return json(res, 200, { code: 0, msg: 'ok', tenant_access_token: token, expire: state.tokenTtl });
  }
  const token = req.headers.authorization?.replace(/^Bearer /, '');
  if (!token || !state.validTokens.has(token)) {
    call.accepted = false;
    return json(res, 200, { code: 99991663, msg: 'Invalid access token for authorization' });
  }
  if (path === '/open-apis/bot/v3/info') return json(res, 200, { code: 0, msg: 'ok', bot: { open_id: 'ou_bot', app_name: 'Tiangong' } });
  const reply = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/reply$/.exec(path);
  // An outage of the message API, for replies to messages whose id says so (no state shared with other tests).
  if (reply?.[1].startsWith('om_outage')) return json(res, 503, { code: 1500, msg: 'fake outage: message service unavailable' });
  if (reply || path === '/open-apis/im/v1/messages') return json(res, 200, { code: 0, msg: 'success', data: { message_id: `om_${state.calls.length}` } });
  return json(res, 404, { code: 404, msg: 'no such fake endpoint' });
};
