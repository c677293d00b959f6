import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { app } from '../../../src/app';
import worker from '../../../src/index';
import { FEISHU_DLQ_NAME, FEISHU_QUEUE_NAME } from '../../../src/queues';
import { api, createUser, expectError } from '../../support/helpers';
import { count, createAgent, eventually, notificationsOf, type User } from '../../support/goal-helpers';

// Requests are encrypted and signed by the fake server with Node's crypto (test/fakes/feishu.ts),
// not by the worker's code under test.
const FAKE = `${env.FAKE_BASE_URL}/feishu`;
const KEY = 'feishu-encrypt-key';
const TOKEN = 'feishu-verification-token';

async function signed(payload: unknown, opts: { encrypt?: boolean; key?: string; timestamp?: number } = {}) {
  const res = await fetch(`${FAKE}/_sign`, { method: 'POST', body: JSON.stringify({ payload, encrypt_key: opts.key ?? KEY, encrypt: opts.encrypt ?? true, timestamp: opts.timestamp }) });
  return (await res.json()) as { body: string; headers: Record<string, string> };
}

const postEvent = async (req: { body: string; headers: Record<string, string> }) =>
  api('/api/v1/feishu/event', { method: 'POST', body: req.body, headers: { 'content-type': 'application/json', ...req.headers } });

const calls = async () => (await (await fetch(`${FAKE}/_calls`)).json()) as Array<{ method: string; path: string; authorization?: string; body: any; accepted: boolean }>;
// Only this test's messages: a late reply of an earlier test may land after the reset.
const mine = new Set<string>();
const replies = async () => (await calls()).filter((c) => c.accepted && c.path.endsWith('/reply') && mine.has(c.path.split('/')[5]));

let serial = 0;
function messageEvent(openId: string, text: string, extra: { chat_type?: string; mentions?: unknown[]; event_id?: string; chat_id?: string } = {}) {
  const n = ++serial;
  mine.add(`om_msg_${n}`);
  return {
    schema: '2.0',
    header: { event_id: extra.event_id ?? `ev_${n}_${crypto.randomUUID()}`, event_type: 'im.message.receive_v1', create_time: String(Date.now()), token: TOKEN, app_id: 'cli_test', tenant_key: 't' },
    event: {
      sender: { sender_id: { open_id: openId, union_id: 'on_x', user_id: 'u_x' }, sender_type: 'user', tenant_key: 't' },
      message: {
        message_id: `om_msg_${n}`,
        chat_id: extra.chat_id ?? `oc_p2p_${openId}`,
        chat_type: extra.chat_type ?? 'p2p',
        message_type: 'text',
        content: JSON.stringify({ text }),
        mentions: extra.mentions ?? [],
      },
    },
  };
}

let admin: User;
beforeEach(async () => {
  await fetch(`${FAKE}/_reset`, { method: 'POST', body: '{}' });
  mine.clear();
  // The first user of this file's database is the admin.
  admin ??= await createUser('admin');
});

describe('POST /feishu/event: verification', () => {
  it('answers an encrypted URL verification with the challenge', async () => {
    const res = await postEvent(await signed({ type: 'url_verification', challenge: 'ch-123', token: TOKEN }));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ challenge: 'ch-123' });
  });

  it('answers a plain URL verification when no encrypt key is configured, checking the token', async () => {
    const plainEnv = { ...env, FEISHU_ENCRYPT_KEY: undefined };
    const ok = await app.fetch(new Request('http://x/api/v1/feishu/event', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'url_verification', challenge: 'c2', token: TOKEN }) }), plainEnv);
    expect(await ok.json()).toEqual({ challenge: 'c2' });
    const bad = await app.fetch(new Request('http://x/api/v1/feishu/event', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'url_verification', challenge: 'c2', token: 'nope' }) }), plainEnv);
    expect(bad.status).toBe(401);
  });

  it('refuses a wrong signature, a stale timestamp, a wrong token or a missing signature with 401, recording nothing', async () => {
    const event = messageEvent('ou_attacker', 'hello');
    const good = await signed(event);
    const tampered = { ...good, headers: { ...good.headers, 'x-lark-signature': good.headers['x-lark-signature'].replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) } };
    expectError(await postEvent(tampered), 401, 'UNAUTHORIZED');
    expectError(await postEvent(await signed(event, { key: 'another key' })), 401);
    expectError(await postEvent(await signed(event, { timestamp: Math.floor(Date.now() / 1000) - 3600 })), 401);
    expectError(await postEvent(await signed({ ...event, header: { ...event.header, token: 'wrong' } })), 401);
    expectError(await postEvent({ body: good.body, headers: {} }), 401);
    expect(await count('SELECT count(*) AS n FROM feishu_events WHERE event_id = ?', event.header.event_id)).toBe(0);
    expect(await calls()).toEqual([]);
  });
});

describe('im.message.receive_v1', () => {
  it('an unbound sender gets the binding explanation and a pending request; admins are notified; the code binds', async () => {
    const res = await postEvent(await signed(messageEvent('ou_alice', 'hi bot')));
    expect(res.status, res.text).toBe(200);
    const [reply] = await eventually(replies, (r) => r.length === 1);
    const text = JSON.parse(reply.body.content).text as string;
    expect(text).toContain('POST /api/v1/feishu/bind');
    const code = /绑定码: ([A-Z0-9]+)/.exec(text)![1];

    const pending = await api('/api/v1/feishu/pending', { token: admin.token });
    expect(pending.body.items.map((r: any) => [r.open_id, r.status])).toEqual([['ou_alice', 'pending']]);
    expect((await notificationsOf(admin.id)).some((n) => n.type === 'feishu_binding_request')).toBe(true);

    const u = await createUser();
    expectError(await api('/api/v1/feishu/pending', { token: u.token }), 403);
    expectError(await api('/api/v1/feishu/bind', { token: u.token, json: { open_id: 'ou_alice', code: 'WRONG1' } }), 422);
    expectError(await api('/api/v1/feishu/bind', { json: { open_id: 'ou_alice', code } }), 401);
    const bound = await api('/api/v1/feishu/bind', { token: u.token, json: { open_id: 'ou_alice', code } });
    expect(bound.status, bound.text).toBe(200);
    expect(bound.body).toMatchObject({ open_id: 'ou_alice', user_id: u.id, agent_id: null });
    // One-time: the code is spent.
    expectError(await api('/api/v1/feishu/bind', { token: (await createUser()).token, json: { open_id: 'ou_alice', code } }), 422);
    expect((await api('/api/v1/feishu/lookup', { token: u.token, json: { open_id: 'ou_alice' } })).body).toMatchObject({ bound: true, pending_request: false });
    expectError(await api('/api/v1/feishu/lookup', { token: (await createUser()).token, json: { open_id: 'ou_alice' } }), 404);
    expectError(await api('/api/v1/feishu/lookup', { token: u.token, json: {} }), 422);
  });

  it('a bound sender talks to their agent in one session per chat; the token is cached; redeliveries are dropped', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    await env.DB.prepare("INSERT INTO feishu_bindings (open_id, user_id, agent_id) VALUES ('ou_bob', ?, ?)").bind(u.id, agent.id).run();

    const first = messageEvent('ou_bob', 'hello there');
    const req = await signed(first);
    expect((await postEvent(req)).status).toBe(200);
    // Feishu redelivers the same event (new signature, same event_id): acknowledged, not processed again.
    expect((await postEvent(await signed(first))).status).toBe(200);
    await eventually(replies, (r) => r.length === 1);
    expect((await postEvent(await signed(messageEvent('ou_bob', '/history')))).status).toBe(200);
    const all = await eventually(replies, (r) => r.length === 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(await replies()).toHaveLength(2);

    expect(all[0].path).toBe(`/open-apis/im/v1/messages/${first.event.message.message_id}/reply`);
    expect(all[0].body).toMatchObject({ msg_type: 'text', uuid: first.header.event_id.slice(0, 50) });
    expect(JSON.parse(all[0].body.content).text).toBe('echo: hello there');
    // Same session: the agent sees the earlier message.
    expect(JSON.parse(all[1].body.content).text).toBe('history: hello there');
    const tokenCalls = (await calls()).filter((c) => c.path.includes('tenant_access_token'));
    expect(tokenCalls).toHaveLength(1);
    expect(all.every((c) => c.authorization === all[0].authorization)).toBe(true);
    expect(await count('SELECT count(*) AS n FROM chat_sessions s JOIN feishu_sessions f ON f.session_id = s.id WHERE s.user_id = ? AND s.agent_id = ?', u.id, agent.id)).toBe(1);
  });

  it('in groups only messages mentioning the bot are answered, with the mention stripped; the default agent answers', async () => {
    const u = await createUser();
    const agent = await createAgent(admin);
    const set = await api('/api/v1/feishu/default-agent', { token: admin.token, json: { agent_id: agent.id } });
    expect(set.body).toEqual({ agent_id: agent.id, agent_name: agent.name });
    expectError(await api('/api/v1/feishu/default-agent', { token: u.token }), 403);
    expectError(await api('/api/v1/feishu/default-agent', { token: u.token, json: { agent_id: agent.id } }), 403);
    expect((await api('/api/v1/feishu/default-agent', { token: admin.token })).body.agent_id).toBe(agent.id);
    await env.DB.prepare("INSERT INTO feishu_bindings (open_id, user_id) VALUES ('ou_carol', ?)").bind(u.id).run();

    const group = { chat_type: 'group', chat_id: 'oc_group' };
    await postEvent(await signed(messageEvent('ou_carol', '@_user_1 ignore me', { ...group, mentions: [{ key: '@_user_1', id: { open_id: 'ou_someone' }, name: 'X' }] })));
    const mentioned = messageEvent('ou_carol', '@_user_1 what time is it', { ...group, mentions: [{ key: '@_user_1', id: { open_id: 'ou_bot' }, name: 'Tiangong' }] });
    await postEvent(await signed(mentioned));
    const [r] = await eventually(replies, (x) => x.length >= 1);
    await new Promise((res) => setTimeout(res, 200));
    expect(await replies()).toHaveLength(1);
    expect(r.path).toContain(mentioned.event.message.message_id);
    expect(JSON.parse(r.body.content).text).toBe('echo: what time is it');
  });
});

describe('admin review, unbind, status', () => {
  it('bind-pending approves or rejects; unbind removes; status reports configuration and counts', async () => {
    await postEvent(await signed(messageEvent('ou_dave', 'hi')));
    await postEvent(await signed(messageEvent('ou_erin', 'hi')));
    await eventually(replies, (r) => r.length === 2);
    const pending = (await api('/api/v1/feishu/pending', { token: admin.token })).body.items as any[];
    expect(pending.length, JSON.stringify(pending)).toBe(2);
    const dave = pending.find((p) => p.open_id === 'ou_dave');
    const erin = pending.find((p) => p.open_id === 'ou_erin');
    const u = await createUser();
    expectError(await api('/api/v1/feishu/bind-pending', { token: u.token, json: { request_id: dave.id, user_id: u.id } }), 403);
    expectError(await api('/api/v1/feishu/bind-pending', { token: admin.token, json: { request_id: crypto.randomUUID(), user_id: u.id } }), 404);
    expectError(await api('/api/v1/feishu/bind-pending', { token: admin.token, json: { request_id: dave.id } }), 422);
    const ok = await api('/api/v1/feishu/bind-pending', { token: admin.token, json: { request_id: dave.id, user_id: u.id } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ request: { status: 'bound', user_id: u.id }, binding: { open_id: 'ou_dave', user_id: u.id } });
    expectError(await api('/api/v1/feishu/bind-pending', { token: admin.token, json: { request_id: dave.id, user_id: u.id } }), 409);
    const rej = await api('/api/v1/feishu/bind-pending', { token: admin.token, json: { request_id: erin.id, approve: false } });
    expect(rej.body).toMatchObject({ request: { status: 'rejected' }, binding: null });

    const st = await api('/api/v1/feishu/status', { token: u.token });
    expect(st.status, st.text).toBe(200);
    expect(st.body).toMatchObject({ configured: true, verification_token_set: true, encrypt_key_set: true, token_ok: true, token_error: null });
    expect(st.body.bindings).toBeGreaterThanOrEqual(1);
    expectError(await api('/api/v1/feishu/status'), 401);

    expect((await api('/api/v1/feishu/unbind', { token: u.token, method: 'POST' })).status).toBe(204);
    expectError(await api('/api/v1/feishu/unbind', { token: u.token, method: 'POST' }), 404);
  });

  it('status reports a token that cannot be obtained', async () => {
    const { tenantAccessToken } = await import('../../../src/engine/feishu/client');
    void tenantAccessToken;
    const st = await app.fetch(
      new Request('http://x/api/v1/feishu/status', { headers: { authorization: `Bearer ${admin.token}` } }),
      { ...env, FEISHU_APP_SECRET: 'wrong', FEISHU_APP_ID: 'cli_other' },
    );
    const body = (await st.json()) as any;
    expect(body).toMatchObject({ configured: true, token_ok: false });
    expect(body.token_error).toContain('app secret invalid');
  });
});

describe('background failures', () => {
  const deliver = async (batch: MessageBatch<unknown>) => {
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    return getQueueResult(batch, ctx);
  };
  const logsOf = async (query: string, eventId: string) => {
    const res = await api(`/api/v1/system-logs?category=job&source=${encodeURIComponent(`queue:${FEISHU_QUEUE_NAME}`)}&page_size=100&${query}`, { token: admin.token });
    expect(res.status, res.text).toBe(200);
    return (res.body.items as any[]).filter((l) => l.data?.resource_id === eventId).reverse();
  };
  /** An event from an unbound sender whose reply the fake open API refuses (503). */
  const outageEvent = (openId: string) => {
    const ev = messageEvent(openId, 'hello');
    ev.event.message.message_id = `om_outage_${crypto.randomUUID()}`;
    return ev;
  };

  it('a reply that keeps failing: each attempt a warning, the dead letter one error; /feishu/status shows the failure', async () => {
    const ev = outageEvent('ou_outage');
    const body = { event_id: ev.header.event_id, payload: ev };
    for (let attempt = 1; attempt <= 4; attempt++) {
      const result = await deliver(createMessageBatch(FEISHU_QUEUE_NAME, [{ id: `fm${attempt}`, timestamp: new Date(), attempts: attempt, body }]));
      expect(result.retryMessages.map((m) => m.msgId)).toEqual([`fm${attempt}`]);
    }
    const dead = await deliver(createMessageBatch(FEISHU_DLQ_NAME, [{ id: 'fd1', timestamp: new Date(), attempts: 1, body }]));
    expect(dead.explicitAcks).toEqual(['fd1']);

    const warnings = await logsOf('level=warn', ev.header.event_id);
    expect(warnings.map((l) => [l.data.message_id, l.data.attempt, l.data.gave_up])).toEqual([
      ['fm1', 1, false],
      ['fm2', 2, false],
      ['fm3', 3, false],
      ['fm4', 4, false],
    ]);
    expect(warnings[0]).toMatchObject({ category: 'job', level: 'warn', source: 'queue:tiangong-feishu', data: { job: 'queue:tiangong-feishu', resource_type: 'feishu_event' } });
    expect(warnings[0].message).toContain(`feishu_event ${ev.header.event_id}`);
    expect(warnings[0].data.cause).toContain('fake outage');
    const errors = await logsOf('level=error', ev.header.event_id);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: 'error', data: { job: 'queue:tiangong-feishu', message_id: 'fd1', resource_type: 'feishu_event', resource_id: ev.header.event_id, gave_up: true } });
    expect(errors[0].message).toContain('gave up');
    expect(errors[0].data.cause).toContain('fake outage');
    // The batch lines say what happened to their messages.
    const batches = await api(`/api/v1/system-logs?source=${encodeURIComponent(`queue:${FEISHU_QUEUE_NAME}`)}&level=info&page_size=100`, { token: admin.token });
    expect(batches.body.items.map((l: any) => l.message)).toContain('1 message(s): 0 done, 1 to be retried');

    const st = await api('/api/v1/feishu/status', { token: admin.token });
    expect(st.body.token_ok).toBe(true);
    expect(st.body.last_api_failure).toMatchObject({ operation: 'reply', error: expect.stringContaining('fake outage') });
    expect(Date.parse(st.body.last_api_failure.at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('an event Feishu sent is answered 200 and its failed reply recorded as a warning', async () => {
    const ev = outageEvent('ou_outage_live');
    expect((await postEvent(await signed(ev))).status).toBe(200);
    const warnings = await eventually(
      () => logsOf('level=warn', ev.header.event_id),
      (l) => l.length > 0,
    );
    expect(warnings[0]).toMatchObject({ level: 'warn', data: { attempt: 1, resource_id: ev.header.event_id } });
  });
});
