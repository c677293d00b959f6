import type { Env } from '../../../env';
import { toHex } from '../../../lib/crypto';
import { ApiError } from '../../../lib/errors';
import { guardedFetch } from '../../../lib/outbound';
import { int, obj, requireConfig, str, tool } from '../define';
import { readBody } from './web';

const category = 'integration';

export const webhookSend = tool<{ url: string; payload: unknown; headers?: Record<string, string>; secret?: string; method?: string; timeout_ms?: number }>({
  name: 'webhook_send',
  category,
  description: 'POST a JSON payload to a webhook URL (Slack, DingTalk, WeCom, n8n, Zapier, your own service); with a secret, the body is signed in X-Signature-256 (HMAC-SHA256) with a timestamp.',
  description_zh: '向 Webhook 地址 POST JSON 载荷(Slack、钉钉、企业微信、n8n、Zapier 或自有服务);提供密钥时用 HMAC-SHA256 在 X-Signature-256 头中签名并附时间戳。',
  parameters: obj({
    url: str('Webhook URL (http/https, public)', { maxLength: 8192 }),
    payload: { description: 'The JSON body' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    secret: str('Signing secret', { minLength: 1, maxLength: 1000 }),
    method: { type: 'string', enum: ['POST', 'PUT', 'PATCH'], default: 'POST' },
    timeout_ms: int('Timeout', { minimum: 100, maximum: 30000, default: 10000 }),
  }, ['url', 'payload']),
  async execute({ url, payload, headers = {}, secret, method = 'POST', timeout_ms = 10000 }, ctx) {
    const body = JSON.stringify(payload);
    const h = new Headers(headers);
    h.set('content-type', 'application/json');
    if (secret) {
      // Signing "timestamp.body" lets the receiver reject replays of old deliveries.
      const ts = String(Math.floor(Date.now() / 1000));
      const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const sig = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${ts}.${body}`));
      h.set('x-webhook-timestamp', ts);
      h.set('x-signature-256', `sha256=${toHex(sig)}`);
    }
    const res = await guardedFetch(ctx.env, url, { method, headers: h, body, signal: ctx.signal }, { timeoutMs: timeout_ms, maxBytes: 1024 * 1024 });
    const response = await readBody(res);
    if (!res.ok) throw new ApiError(502, 'UPSTREAM_ERROR', `The webhook answered ${res.status}: ${JSON.stringify(response).slice(0, 300)}`);
    return { delivered: true, status: res.status, response };
  },
});

export const emailConfigured = (env: Env) => !!(env.EMAIL_API_URL && env.EMAIL_API_KEY && env.EMAIL_FROM);

const addresses = { type: ['string', 'array'], items: { type: 'string', format: 'email' }, format: 'email', maxItems: 50 };

export const emailSend = tool<{ to: string | string[]; subject: string; text?: string; html?: string; cc?: string | string[]; reply_to?: string }>({
  name: 'email_send',
  category,
  description: 'Send an e-mail through the configured HTTP e-mail provider (EMAIL_API_URL, EMAIL_API_KEY, EMAIL_FROM; a Resend-style JSON API).',
  description_zh: '通过配置的 HTTP 邮件服务(EMAIL_API_URL、EMAIL_API_KEY、EMAIL_FROM;Resend 风格的 JSON API)发送邮件。',
  parameters: obj({
    to: addresses,
    subject: str('Subject', { minLength: 1, maxLength: 500 }),
    text: str('Plain-text body', { maxLength: 500000 }),
    html: str('HTML body', { maxLength: 1000000 }),
    cc: addresses,
    reply_to: str('Reply-to address', { format: 'email' }),
  }, ['to', 'subject'], { anyOf: [{ required: ['text'] }, { required: ['html'] }] }),
  isConfigured: emailConfigured,
  async execute({ to, subject, text, html, cc, reply_to }, ctx) {
    const cfg = requireConfig(ctx.env, 'email_send', 'EMAIL_API_URL', 'EMAIL_API_KEY', 'EMAIL_FROM');
    const list = (v?: string | string[]) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
    const res = await guardedFetch(
      ctx.env,
      cfg.EMAIL_API_URL,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${cfg.EMAIL_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: cfg.EMAIL_FROM, to: list(to), cc: list(cc), subject, text, html, reply_to }),
        signal: ctx.signal,
      },
      { timeoutMs: 15000, maxBytes: 256 * 1024 },
    );
    const response = (await readBody(res)) as Record<string, unknown> | string;
    if (!res.ok) throw new ApiError(502, 'UPSTREAM_ERROR', `The e-mail provider answered ${res.status}: ${JSON.stringify(response).slice(0, 300)}`);
    return { sent: true, id: typeof response === 'object' && response ? (response.id ?? null) : null, to: list(to) };
  },
});

export const integrationTools = [webhookSend, emailSend];
