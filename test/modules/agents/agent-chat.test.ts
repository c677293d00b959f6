import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { findBuiltinTool } from '../../../src/engine/tools/registry';
import { MAX_DELEGATION_DEPTH } from '../../../src/runs/agent-turn';
import { delegationToolName } from '../../../src/runs/agents';
import { parseSse } from '../../../src/lib/sse';
import { api, BASE, createUser, expectError } from '../../support/helpers';

type User = Awaited<ReturnType<typeof createUser>>;
type SseEvent = { id?: string; event: string; data: string };

const CHAT_EVENTS = ['token', 'tool_call', 'tool_result', 'done', 'error'];
const FAKE_KEY = 'sk-fake-0123456789';

async function makeAgent(u: User, body: Record<string, unknown> = {}) {
  const res = await api('/api/v1/agents', { token: u.token, json: { name: `Agent ${crypto.randomUUID().slice(0, 6)}`, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; name: string };
}

/** A main agent (mock model) delegating to `sub`. */
async function mainAgentOf(u: User, sub: { id: string }, body: Record<string, unknown> = {}) {
  const main = await makeAgent(u, { name: 'Main', ...body });
  const res = await api(`/api/v1/agents/${main.id}/create-main-agent`, { token: u.token, json: { sub_agent_ids: [sub.id] } });
  expect(res.status, res.text).toBe(200);
  return main;
}

/** A sub-agent on the fake OpenAI model that answers after 1.5 s. */
async function slowAgent(u: User) {
  const cfg = await api('/api/v1/model-configs', {
    token: u.token,
    json: { name: 'Slow', provider: 'openai', model_name: 'fake-slow', base_url: `${env.FAKE_BASE_URL}/openai/v1`, api_key: FAKE_KEY },
  });
  expect(cfg.status, cfg.text).toBe(201);
  return makeAgent(u, { name: 'Slow', model_config: { model_config_id: cfg.body.id } });
}

const chat = (u: User, agentId: string, json: Record<string, unknown>) => api(`/api/v1/agent-chat/${agentId}`, { token: u.token, json });
const sse = (text: string) => parseSse(text);
const dataOf = (e: SseEvent) => JSON.parse(e.data);

async function messagesOf(sessionId: string) {
  const { results } = await env.DB.prepare('SELECT * FROM chat_messages WHERE session_id = ? ORDER BY seq').bind(sessionId).all<Record<string, any>>();
  return results;
}

function openStream(path: string, u: User, json: unknown, headers: Record<string, string> = {}) {
  return exports.default.fetch(
    new Request(BASE + path, {
      method: 'POST',
      headers: { Authorization: `Bearer ${u.token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(json),
    }),
  );
}

/** The tables a session's ChatSession object holds, with their row counts (its own, not the platform's `_cf_` ones). */
function sessionStorage(sessionId: string): Promise<Record<string, number>> {
  return runInDurableObject(env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(sessionId)), async (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
      .toArray();
    const counts: Record<string, number> = {};
    for (const { name } of tables) counts[name] = state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM "${name}"`).one().n;
    return counts;
  });
}

/** Reads SSE events until `stop` says so, then drops the connection (a client going away). */
async function readUntil(res: Response, stop: (e: SseEvent) => boolean): Promise<SseEvent[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
    const events = sse(complete);
    if (events.some(stop)) {
      await reader.cancel();
      return events;
    }
  }
  return sse(text);
}

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function expectWellFormed(events: SseEvent[]) {
  expect(events.length).toBeGreaterThan(0);
  for (const e of events) expect(CHAT_EVENTS).toContain(e.event);
  const ids = events.map((e) => Number(e.id));
  for (const id of ids) expect(Number.isInteger(id)).toBe(true);
  for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
}

describe('POST /agent-chat/{agent_id}', () => {
  it('runs a turn in a new session and records it in D1', async () => {
    const u = await createUser();
    const a = await makeAgent(u, { system_prompt: 'You are helpful.' });
    const res = await chat(u, a.id, { message: 'hello there' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ reply: 'echo: hello there', tool_calls: [], iterations: 1, finish_reason: 'stop' });
    expect(res.body.session_id).toMatch(/^[0-9a-f-]{36}$/);
    const usage = res.body.token_usage;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);

    const session = await env.DB.prepare('SELECT * FROM chat_sessions WHERE id = ?').bind(res.body.session_id).first<Record<string, any>>();
    // The owner chatting with a draft agent is previewing it.
    expect(session).toMatchObject({ user_id: u.id, agent_id: a.id, kind: 'preview', title: 'hello there' });
    const msgs = await messagesOf(res.body.session_id);
    expect(msgs.map((m) => [m.seq, m.role, m.content])).toEqual([
      [1, 'user', 'hello there'],
      [2, 'assistant', 'echo: hello there'],
    ]);
    expect(msgs[0].id).toBe(res.body.user_message_id);
    expect(msgs[1]).toMatchObject({ id: res.body.message_id, prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens });
    const call = await env.DB.prepare('SELECT * FROM llm_calls WHERE session_id = ?').bind(res.body.session_id).first<Record<string, any>>();
    expect(call).toMatchObject({ user_id: u.id, agent_id: a.id, provider: 'mock', status: 'ok', source: 'chat' });

    const preview = await api(`/api/v1/agents/${a.id}/preview-chat-history`, { token: u.token });
    expect(preview.body.total).toBe(2);
  });

  it('restores the history of a session and keeps seq dense', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const first = await chat(u, a.id, { message: 'one' });
    await chat(u, a.id, { message: 'two', session_id: first.body.session_id });
    const third = await chat(u, a.id, { message: '/history', session_id: first.body.session_id });
    expect(third.body).toMatchObject({ session_id: first.body.session_id, reply: 'history: one | two' });
    expect((await messagesOf(first.body.session_id)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('records chats with a deployed agent as chat sessions; streamlined answers only the reply', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    expect((await api(`/api/v1/agents/${a.id}/deploy`, { method: 'POST', token: u.token })).status).toBe(200);
    const res = await chat(u, a.id, { message: 'short', streamlined: true });
    expect(res.body).toEqual({ session_id: expect.any(String), reply: 'echo: short' });
    const kind = await env.DB.prepare('SELECT kind FROM chat_sessions WHERE id = ?').bind(res.body.session_id).first('kind');
    expect(kind).toBe('chat');
  });

  it('delegates to sub-agents through their delegation tools', async () => {
    const u = await createUser();
    const sub = await makeAgent(u, { name: 'Researcher' });
    const main = await mainAgentOf(u, sub);
    const tool = delegationToolName(sub.id);
    const res = await chat(u, main.id, { message: `/tool ${tool} {"task":"find facts"}` });
    expect(res.status, res.text).toBe(200);
    expect(res.body.iterations).toBe(2);
    expect(res.body.tool_calls).toHaveLength(1);
    const [call] = res.body.tool_calls;
    expect(call).toMatchObject({ name: tool, arguments: { task: 'find facts' } });
    expect(call.output).toMatchObject({ agent_id: sub.id, agent_name: 'Researcher', reply: 'echo: find facts', iterations: 1 });
    expect(res.body.reply).toBe(`tool ${tool} returned: ${JSON.stringify(call.output)}`);
    // The sub-agent's model call counts towards the turn.
    const calls = await env.DB.prepare('SELECT agent_id, source, prompt_tokens + completion_tokens AS total FROM llm_calls WHERE session_id = ?')
      .bind(res.body.session_id)
      .all<{ agent_id: string; source: string; total: number }>();
    expect(calls.results.map((c) => c.source).sort()).toEqual(['chat', 'chat', 'delegate']);
    expect(res.body.token_usage.total_tokens).toBe(calls.results.reduce((n, c) => n + c.total, 0));
    const msgs = await messagesOf(res.body.session_id);
    expect(msgs.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(JSON.parse(msgs[1].tool_calls)[0]).toMatchObject({ name: tool });
    expect(msgs[2]).toMatchObject({ tool_call_id: call.id, name: tool });
  });

  // Runs once the tools module's builtin registry (with `calculator`) is merged.
  it.skipIf(!findBuiltinTool('calculator'))('calls a builtin tool from include_tools end to end', async () => {
    const u = await createUser();
    const a = await makeAgent(u, { include_tools: ['calculator'] });
    const res = await chat(u, a.id, { message: '/tool calculator {"expression":"6*7"}' });
    expect(res.status, res.text).toBe(200);
    const [call] = res.body.tool_calls;
    expect(call).toMatchObject({ name: 'calculator', arguments: { expression: '6*7' } });
    expect(call.error).toBeUndefined();
    expect(JSON.stringify(call.output)).toContain('42');
    expect(res.body.reply).toBe(`tool calculator returned: ${JSON.stringify(call.output)}`);
  });

  it('searches a knowledge base through the knowledge_search tool; another user\'s base is not found', async () => {
    const owner = await createUser();
    const stranger = await createUser();
    expect(stranger.role).toBe('user');
    const kb = await api('/api/v1/knowledge-bases', { token: owner.token, json: { name: '手册' } });
    expect(kb.status, kb.text).toBe(201);
    const doc = await api(`/api/v1/knowledge-bases/${kb.body.id}/documents`, {
      token: owner.token,
      json: { title: '退款政策', content: '购买后三十天内可以申请退款。退款会在五个工作日内原路返回。' },
    });
    expect(doc.status, doc.text).toBe(202);
    const ready = await waitFor(
      () => api(`/api/v1/knowledge-bases/${kb.body.id}/documents`, { token: owner.token }),
      (r) => r.body.items[0]?.status === 'ready',
      20_000,
    );
    expect(ready.body.items[0].status).toBe('ready');

    const a = await makeAgent(owner, { include_tools: ['knowledge_search'] });
    const args = { kb_id: kb.body.id, query: '退款多久到账', top_k: 3, mode: 'full-text' };
    const res = await chat(owner, a.id, { message: `/tool knowledge_search ${JSON.stringify(args)}` });
    expect(res.status, res.text).toBe(200);
    const [call] = res.body.tool_calls;
    expect(call).toMatchObject({ name: 'knowledge_search', arguments: args });
    expect(call.error).toBeUndefined();
    expect(call.output).toMatchObject({ kb_id: kb.body.id, kb_name: '手册', mode: 'full-text' });
    expect(call.output.chunks[0]).toMatchObject({ document_id: doc.body.id, document_name: '退款政策', citation: '[1] 退款政策' });
    expect(call.output.chunks[0].content).toContain('五个工作日');
    expect(res.body.reply).toBe(`tool knowledge_search returned: ${JSON.stringify(call.output)}`);

    // The stranger's agent may call the tool, but the base is not theirs: not found, nothing leaks.
    const b = await makeAgent(stranger, { include_tools: ['knowledge_search'] });
    const denied = await chat(stranger, b.id, { message: `/tool knowledge_search ${JSON.stringify(args)}` });
    expect(denied.status, denied.text).toBe(200);
    expect(denied.body.tool_calls[0].error).toMatch(/not found/i);
    expect(JSON.stringify(denied.body)).not.toContain('五个工作日');
  });

  it('calls a custom code tool from include_tools, with its usage recorded', async () => {
    const u = await createUser();
    const tool = await api('/api/v1/tools', {
      token: u.token,
      json: { name: 'double', type: 'code', description: 'Doubles a number', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] }, config: { source: 'args.x * 2' } },
    });
    expect(tool.status, tool.text).toBe(201);
    const a = await makeAgent(u, { include_tools: [tool.body.id] });
    const res = await chat(u, a.id, { message: '/tool double {"x":21}' });
    expect(res.body.tool_calls[0]).toMatchObject({ name: 'double', arguments: { x: 21 }, output: 42 });
    expect(res.body.reply).toBe('tool double returned: 42');
    // Bad arguments come back to the model as an error, not as a failed request.
    const bad = await chat(u, a.id, { message: '/tool double {"x":"nope"}', session_id: res.body.session_id });
    expect(bad.status).toBe(200);
    expect(bad.body.tool_calls[0].error).toMatch(/VALIDATION_ERROR: arguments\.x/);
    const usage = await env.DB.prepare('SELECT caller, agent_id, session_id, ok FROM tool_usage WHERE tool_id = ? ORDER BY created_at').bind(tool.body.id).all();
    expect(usage.results).toEqual([
      { caller: 'agent', agent_id: a.id, session_id: res.body.session_id, ok: 1 },
      { caller: 'agent', agent_id: a.id, session_id: res.body.session_id, ok: 0 },
    ]);
  });

  it('tells the model about tools it does not have, and stops at the iteration limit', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const res = await chat(u, a.id, { message: '/tool shell {"cmd":"ls"}' });
    expect(res.body.tool_calls[0]).toMatchObject({ name: 'shell', error: 'Tool shell is not available to this agent' });
    expect(res.body.reply).toBe('tool shell returned: {"error":"Tool shell is not available to this agent"}');

    const sub = await makeAgent(u);
    const main = await mainAgentOf(u, sub, { iteration_limit: 1 });
    const limited = await chat(u, main.id, { message: `/tool ${delegationToolName(sub.id)} {"task":"x"}` });
    expect(limited.body).toMatchObject({ iterations: 1, finish_reason: 'iteration_limit' });
  });

  it('answers 502 for a model failure and keeps what the user said', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const first = await chat(u, a.id, { message: 'fine' });
    expectError(await chat(u, a.id, { message: '/error', session_id: first.body.session_id }), 502, 'LLM_ERROR');
    expect((await messagesOf(first.body.session_id)).map((m) => m.content)).toEqual(['fine', 'echo: fine', '/error']);
  });

  it('rejects stopped agents, strangers, unknown ids and bad bodies', async () => {
    const u = await createUser();
    const other = await createUser('other');
    const a = await makeAgent(u);
    const first = await chat(u, a.id, { message: 'mine' });

    expectError(await api(`/api/v1/agent-chat/${a.id}`, { json: { message: 'x' } }), 401, 'UNAUTHORIZED');
    expectError(await chat(other, a.id, { message: 'x' }), 404, 'NOT_FOUND');
    expectError(await chat(u, crypto.randomUUID(), { message: 'x' }), 404, 'NOT_FOUND');
    // Another user's session, even through their own agent.
    const theirs = await makeAgent(other);
    expectError(await chat(other, theirs.id, { message: 'x', session_id: first.body.session_id }), 404, 'NOT_FOUND');
    expectError(await chat(u, a.id, { message: 'x', session_id: crypto.randomUUID() }), 404, 'NOT_FOUND');
    // A session of another agent of the same user.
    const b = await makeAgent(u);
    expect(expectError(await chat(u, b.id, { message: 'x', session_id: first.body.session_id }), 422).message).toMatch(/body\.session_id/);
    expect(expectError(await chat(u, a.id, {}), 422, 'VALIDATION_ERROR').message).toMatch(/body\.message/);
    expectError(await chat(u, a.id, { message: '' }), 422);
    expectError(await chat(u, a.id, { message: 'x', session_id: 'nope' }), 422);
    expectError(await chat(u, a.id, { message: 'x', streamlined: 'yes' }), 422);

    await api(`/api/v1/agents/${a.id}/deploy`, { method: 'POST', token: u.token });
    await api(`/api/v1/agents/${a.id}/stop`, { method: 'POST', token: u.token });
    expectError(await chat(u, a.id, { message: 'x', session_id: first.body.session_id }), 409, 'CONFLICT');
    expectError(await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: 'x' } }), 409, 'CONFLICT');
  });

  it('starts sessions for grantees after the checks: kind chat, their own; a reader starts none', async () => {
    const owner = await createUser();
    const grantee = await createUser('grantee');
    const reader = await createUser('reader');
    const a = await makeAgent(owner);
    for (const [who, level] of [[grantee, 'execute'], [reader, 'read']] as const) {
      const g = await api('/api/v1/permissions/grants', { token: owner.token, json: { resource_type: 'agent', resource_id: a.id, user_id: who.id, level } });
      expect(g.status, g.text).toBe(201);
    }
    const res = await chat(grantee, a.id, { message: 'hi from a grantee' });
    expect(res.status, res.text).toBe(200);
    const row = await env.DB.prepare('SELECT user_id, agent_id, kind, title FROM chat_sessions WHERE id = ?').bind(res.body.session_id).first();
    // A draft agent is a preview only for its owner.
    expect(row).toEqual({ user_id: grantee.id, agent_id: a.id, kind: 'chat', title: 'hi from a grantee' });
    expectError(await chat(reader, a.id, { message: 'x' }), 403, 'FORBIDDEN');
    const { results } = await env.DB.prepare('SELECT user_id FROM chat_sessions WHERE agent_id = ?').bind(a.id).all<{ user_id: string }>();
    expect(results.map((r) => r.user_id)).toEqual([grantee.id]);
  });

  it('refuses a still-valid access token of a user since disabled, on every chat route, starting nothing', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const first = await chat(u, a.id, { message: 'mine' });
    await env.DB.prepare("UPDATE users SET status = 'disabled' WHERE id = ?").bind(u.id).run();
    expectError(await chat(u, a.id, { message: 'x' }), 401, 'UNAUTHORIZED');
    expectError(await chat(u, a.id, { message: 'x', session_id: first.body.session_id }), 401, 'UNAUTHORIZED');
    expectError(await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: 'x' } }), 401, 'UNAUTHORIZED');
    expectError(await api('/api/v1/agent-chat/bare', { token: u.token, json: { message: 'x' } }), 401, 'UNAUTHORIZED');
    expectError(await api('/api/v1/agent-chat/bare/stream', { token: u.token, json: { message: 'x' } }), 401, 'UNAUTHORIZED');
    const { results } = await env.DB.prepare('SELECT count(*) AS n FROM chat_sessions WHERE user_id = ?').bind(u.id).all<{ n: number }>();
    expect(results[0].n).toBe(1);
  });
});

describe('POST /agent-chat/{agent_id}/stream', () => {
  it('streams token events then done, each with an increasing id', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const res = await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: 'stream these words' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sse(res.text);
    expectWellFormed(events);
    expect(events.map((e) => e.event)).toEqual(['token', 'token', 'token', 'token', 'done']);
    expect(events.filter((e) => e.event === 'token').map((e) => dataOf(e).text).join('')).toBe('echo: stream these words');
    const done = dataOf(events.at(-1)!);
    const sessionId = res.headers.get('X-Session-Id');
    expect(done).toMatchObject({ session_id: sessionId, reply: 'echo: stream these words', iterations: 1 });
    expect(done.token_usage.total_tokens).toBeGreaterThan(0);
    expect((await messagesOf(sessionId!)).map((m) => m.id)).toEqual([expect.any(String), done.message_id]);

    // The next turn's ids continue after this one's.
    const next = sse((await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: 'more', session_id: sessionId } })).text);
    expect(Number(next[0].id)).toBe(Number(events.at(-1)!.id) + 1);
  });

  it('shows delegated work as tool_call and tool_result; streamlined leaves them out', async () => {
    const u = await createUser();
    const sub = await makeAgent(u, { name: 'Helper' });
    const main = await mainAgentOf(u, sub);
    const tool = delegationToolName(sub.id);
    const events = sse((await api(`/api/v1/agent-chat/${main.id}/stream`, { token: u.token, json: { message: `/tool ${tool} {"task":"sum it"}` } })).text);
    expectWellFormed(events);
    expect(events.map((e) => e.event).filter((e) => e !== 'token')).toEqual(['tool_call', 'tool_result', 'done']);
    expect(events[0].event).toBe('tool_call');
    expect(dataOf(events[0])).toMatchObject({ name: tool, arguments: { task: 'sum it' } });
    expect(dataOf(events[1])).toMatchObject({ id: dataOf(events[0]).id, name: tool, output: { agent_name: 'Helper', reply: 'echo: sum it' } });

    const lean = sse((await api(`/api/v1/agent-chat/${main.id}/stream`, { token: u.token, json: { message: `/tool ${tool} {"task":"x"}`, streamlined: true } })).text);
    expect(lean.map((e) => e.event).filter((e) => e !== 'token')).toEqual(['done']);
  });

  it('ends with an error event when the model fails', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const res = await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: '/error' } });
    expect(res.status).toBe(200);
    const events = sse(res.text);
    expectWellFormed(events);
    expect(events.map((e) => e.event)).toEqual(['error']);
    expect(dataOf(events[0])).toEqual({ error: 'LLM_ERROR', message: expect.stringContaining('simulated upstream error') });
  });

  it('replays the rest of a finished turn after Last-Event-ID without running it again', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const res = await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: 'a b c d' } });
    const all = sse(res.text);
    const sessionId = res.headers.get('X-Session-Id')!;
    const again = await api(`/api/v1/agent-chat/${a.id}/stream`, {
      token: u.token,
      json: { message: 'a b c d', session_id: sessionId },
      headers: { 'Last-Event-ID': all[1].id! },
    });
    expect(again.status).toBe(200);
    expect(sse(again.text)).toEqual(all.slice(2));
    expect(await messagesOf(sessionId)).toHaveLength(2);

    const atEnd = await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: 'x', session_id: sessionId }, headers: { 'Last-Event-ID': all.at(-1)!.id! } });
    expect(sse(atEnd.text)).toEqual([]);
    expectError(await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: 'x', session_id: sessionId }, headers: { 'Last-Event-ID': '99999' } }), 409, 'CONFLICT');
    expect(expectError(await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: 'x' }, headers: { 'Last-Event-ID': '1' } }), 422).message).toMatch(/session_id/);
    const other = await createUser('other');
    expectError(await api(`/api/v1/agent-chat/${a.id}/stream`, { token: other.token, json: { message: 'x', session_id: sessionId }, headers: { 'Last-Event-ID': '1' } }), 404);
  });

  it('turns in a row set the alarm once; when it fires with no turn left it re-arms to drop the kept events later', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const first = await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: 'one' } });
    const sessionId = first.headers.get('X-Session-Id')!;
    const stub = () => env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(sessionId));
    const alarmAt = () => runInDurableObject(stub(), (_o, state) => state.storage.getAlarm());
    const armed = await alarmAt();
    // The heartbeat: within 15 s of the turn.
    expect(armed).not.toBeNull();
    expect(armed! - Date.now()).toBeLessThanOrEqual(15_000);
    for (const m of ['two', 'three']) {
      const res = await api(`/api/v1/agent-chat/${a.id}/stream`, { token: u.token, json: { message: m, session_id: sessionId } });
      expect(sse(res.text).at(-1)!.event).toBe('done');
    }
    expect(await alarmAt()).toBe(armed);
    // Fired with no turn running and streamed turns kept: next in the resume window (5 minutes), events still there.
    expect(await runDurableObjectAlarm(stub())).toBe(true);
    const next = await alarmAt();
    expect(next! - Date.now()).toBeGreaterThan(60_000);
    expect((await sessionStorage(sessionId)).events).toBeGreaterThan(0);
    expect(await messagesOf(sessionId)).toHaveLength(6);
  });

  it('survives a dropped connection: a reconnect during the turn gets the rest live, and the turn is persisted', async () => {
    const u = await createUser();
    const slow = await slowAgent(u);
    const main = await mainAgentOf(u, slow);
    const tool = delegationToolName(slow.id);
    const message = `/tool ${tool} {"task":"take your time"}`;
    const first = await openStream(`/api/v1/agent-chat/${main.id}/stream`, u, { message });
    const sessionId = first.headers.get('X-Session-Id')!;
    // Drop the connection as soon as the tool call is announced (the sub-agent needs 1.5 s).
    const seen = await readUntil(first, (e) => e.event === 'tool_call');
    expect(seen.map((e) => e.event)).toEqual(['tool_call']);

    const resumed = await openStream(`/api/v1/agent-chat/${main.id}/stream`, u, { message, session_id: sessionId }, { 'Last-Event-ID': seen[0].id! });
    expect(resumed.status).toBe(200);
    const rest = sse(await resumed.text());
    expectWellFormed([...seen, ...rest]);
    expect(Number(rest[0].id)).toBe(Number(seen[0].id) + 1);
    expect(rest[0].event).toBe('tool_result');
    expect(dataOf(rest[0]).output.reply).toBe('fake: take your time');
    expect(rest.at(-1)!.event).toBe('done');
    expect((await messagesOf(sessionId)).map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
  });

  it('finishes and persists a turn whose client went away', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const res = await openStream(`/api/v1/agent-chat/${a.id}/stream`, u, { message: 'nobody listens' });
    const sessionId = res.headers.get('X-Session-Id')!;
    await res.body!.cancel();
    const msgs = await waitFor(() => messagesOf(sessionId), (m) => m.length === 2);
    expect(msgs.map((m) => m.content)).toEqual(['nobody listens', 'echo: nobody listens']);
  });
});

describe('turn serialisation', () => {
  it('runs concurrent messages to one session one after the other', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const first = await chat(u, a.id, { message: 'm0' });
    const sessionId = first.body.session_id;
    const replies = await Promise.all([1, 2, 3, 4, 5].map((i) => chat(u, a.id, { message: `m${i}`, session_id: sessionId })));
    for (const [i, r] of replies.entries()) expect(r.body.reply).toBe(`echo: m${i + 1}`);
    const msgs = await messagesOf(sessionId);
    expect(msgs.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // Never interleaved: every user message is followed by its own answer.
    for (let i = 0; i < msgs.length; i += 2) {
      expect(msgs[i].role).toBe('user');
      expect(msgs[i + 1].content).toBe(`echo: ${msgs[i].content}`);
    }
  });

  it('holds a message until the running turn (a slow tool call) has finished', async () => {
    const u = await createUser();
    const slow = await slowAgent(u);
    const main = await mainAgentOf(u, slow);
    const start = await chat(u, main.id, { message: 'start' });
    const sessionId = start.body.session_id;
    const slowTurn = chat(u, main.id, { message: `/tool ${delegationToolName(slow.id)} {"task":"wait"}`, session_id: sessionId });
    await new Promise((r) => setTimeout(r, 50));
    const history = await chat(u, main.id, { message: '/history', session_id: sessionId });
    const slowDone = await slowTurn;
    expect(slowDone.body.tool_calls[0].output.reply).toBe('fake: wait');
    expect(history.body.reply).toBe(`history: start | /tool ${delegationToolName(slow.id)} {"task":"wait"}`);
    expect((await messagesOf(sessionId)).map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'tool', 'assistant', 'user', 'assistant']);
  });
});

/** Hits of a key on the turns fake (test/support/fakes/turns.ts). */
async function hits(key: string): Promise<number> {
  const res = await fetch(`${env.FAKE_BASE_URL}/turns/count?key=${encodeURIComponent(key)}`);
  return ((await res.json()) as { count: number }).count;
}

const release = (key: string) => fetch(`${env.FAKE_BASE_URL}/turns/release?key=${encodeURIComponent(key)}`);

/** A message making the mock model call http_request on a fake endpoint held until released (or the call is aborted). */
const slowMessage = (key: string) => `/tool http_request ${JSON.stringify({ url: `${env.FAKE_BASE_URL}/turns/hit?key=${key}&hold=1` })}`;

/** The session's history as the API shows it (the owner's preview of a draft agent). */
async function historyOf(u: User, agentId: string) {
  const res = await api(`/api/v1/agents/${agentId}/preview-chat-history?page_size=100`, { token: u.token });
  expect(res.status, res.text).toBe(200);
  return res.body.items as Array<{ id: string; seq: number; role: string; content: string | null; interrupted: boolean }>;
}

describe('a known session starts its turn before the checks return', () => {
  /** A session of an agent with http_request whose object knows it (one turn done). */
  async function knownSession() {
    const u = await createUser();
    const a = await makeAgent(u, { include_tools: ['http_request'] });
    const first = await chat(u, a.id, { message: 'start' });
    expect(first.status, first.text).toBe(200);
    return { u, a, sessionId: first.body.session_id as string };
  }
  const hitMessage = (key: string) => `/tool http_request ${JSON.stringify({ url: `${env.FAKE_BASE_URL}/turns/hit?key=${key}` })}`;

  it('a refused message runs no tool and leaves nothing: stopped agent (409), revoked grant (404), streamed or not', async () => {
    const { u, a, sessionId } = await knownSession();
    await api(`/api/v1/agents/${a.id}/deploy`, { method: 'POST', token: u.token });
    await api(`/api/v1/agents/${a.id}/stop`, { method: 'POST', token: u.token });
    const key = crypto.randomUUID();
    expectError(await chat(u, a.id, { message: hitMessage(key), session_id: sessionId }), 409, 'CONFLICT');
    const streamed = await openStream(`/api/v1/agent-chat/${a.id}/stream`, u, { message: hitMessage(key), session_id: sessionId });
    expect(streamed.status).toBe(409);
    expect(streamed.headers.get('content-type')).toMatch(/json/);
    expect(await hits(key)).toBe(0);
    expect((await messagesOf(sessionId)).map((m) => m.content)).toEqual(['start', 'echo: start']);
    expect((await sessionStorage(sessionId)).messages).toBe(2);

    // A grantee whose grant is revoked after their first turn.
    const grantee = await createUser('grantee');
    const shared = await makeAgent(u, { include_tools: ['http_request'] });
    const grant = await api('/api/v1/permissions/grants', { token: u.token, json: { resource_type: 'agent', resource_id: shared.id, user_id: grantee.id, level: 'execute' } });
    expect(grant.status, grant.text).toBe(201);
    const mine = await chat(grantee, shared.id, { message: 'granted' });
    expect(mine.status, mine.text).toBe(200);
    expect((await api(`/api/v1/permissions/grants/${grant.body.id}`, { method: 'DELETE', token: u.token })).status).toBe(204);
    expectError(await chat(grantee, shared.id, { message: hitMessage(key), session_id: mine.body.session_id }), 404, 'NOT_FOUND');
    expect(await hits(key)).toBe(0);
    expect(await messagesOf(mine.body.session_id)).toHaveLength(2);
  });

  it('an agent changed since the last turn answers with its new configuration: the early call is dropped, its tool never runs', async () => {
    const { u, a, sessionId } = await knownSession();
    const put = await api(`/api/v1/agents/${a.id}`, { method: 'PUT', token: u.token, json: { include_tools: [] } });
    expect(put.status, put.text).toBe(200);
    const key = crypto.randomUUID();
    const res = await openStream(`/api/v1/agent-chat/${a.id}/stream`, u, { message: hitMessage(key), session_id: sessionId });
    expect(res.status).toBe(200);
    const events = sse(await res.text());
    expectWellFormed(events);
    // One tool call shown: the restarted turn's, which the agent no longer has.
    const results = events.filter((e) => e.event === 'tool_result').map(dataOf);
    expect(results).toHaveLength(1);
    expect(results[0].error).toMatch(/not available/);
    expect(await hits(key)).toBe(0);
    const messages = await messagesOf(sessionId);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    // The early model call was made (and is accounted for) besides the restarted turn's two.
    const calls = await env.DB.prepare('SELECT count(*) AS n FROM llm_calls WHERE session_id = ?').bind(sessionId).first<{ n: number }>();
    expect(calls!.n).toBe(1 + 1 + 2);
    // The object knows the agent as it is now: the next turn with the tool... has none.
    expect((await chat(u, a.id, { message: 'after', session_id: sessionId })).body.reply).toBe('echo: after');
  });

  it('a model config changed since the last turn (its key rotated) is used at once: the turn starts again with it', async () => {
    const u = await createUser();
    const cfg = await api('/api/v1/model-configs', {
      token: u.token,
      json: { name: 'Fake', provider: 'openai', model_name: 'fake-1', base_url: `${env.FAKE_BASE_URL}/openai/v1`, api_key: FAKE_KEY },
    });
    expect(cfg.status, cfg.text).toBe(201);
    const a = await makeAgent(u, { model_config: { model_config_id: cfg.body.id } });
    const first = await chat(u, a.id, { message: 'one' });
    expect(first.body.reply).toBe('fake: one');
    const sessionId = first.body.session_id;
    expect((await chat(u, a.id, { message: 'two', session_id: sessionId })).body.reply).toBe('fake: two');
    const put = await api(`/api/v1/model-configs/${cfg.body.id}`, { token: u.token, method: 'PUT', json: { api_key: 'sk-rotated-but-wrong' } });
    expect(put.status, put.text).toBe(200);
    // The early call with the old key would have been answered; the turn is the new key's (refused upstream).
    expectError(await chat(u, a.id, { message: 'three', session_id: sessionId }), 502, 'LLM_ERROR');
    expect((await messagesOf(sessionId)).map((m) => m.content)).toEqual(['one', 'fake: one', 'two', 'fake: two', 'three']);
  });

  it('another user cannot use what the object knows: their message to the session is 404 and starts nothing', async () => {
    const { a, sessionId } = await knownSession();
    const other = await createUser('other');
    const key = crypto.randomUUID();
    expectError(await chat(other, a.id, { message: hitMessage(key), session_id: sessionId }), 404, 'NOT_FOUND');
    expect(await hits(key)).toBe(0);
    expect(await messagesOf(sessionId)).toHaveLength(2);
  });
});

describe('double-texting (multitask_strategy)', () => {
  /** A session with one finished turn, and a second turn held in its tool call. */
  async function busySession() {
    const u = await createUser();
    const a = await makeAgent(u, { include_tools: ['http_request'] });
    const start = await chat(u, a.id, { message: 'start' });
    expect(start.status, start.text).toBe(200);
    const sessionId = start.body.session_id as string;
    const key = crypto.randomUUID();
    const running = chat(u, a.id, { message: slowMessage(key), session_id: sessionId });
    await waitFor(() => hits(key), (n) => n === 1, 10_000);
    return { u, a, sessionId, key, running };
  }

  it('reject: 409 TURN_IN_PROGRESS naming the running turn; the running turn finishes, the refused message is not saved', async () => {
    const { u, a, sessionId, key, running } = await busySession();
    const refused = await chat(u, a.id, { message: 'second', session_id: sessionId, multitask_strategy: 'reject' });
    expectError(refused, 409, 'TURN_IN_PROGRESS');
    const runningId = refused.headers.get('X-Running-Turn-Id')!;
    expect(refused.body.message).toContain(runningId);
    await release(key);
    const first = await running;
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ finish_reason: 'stop', user_message_id: runningId });
    const history = await historyOf(u, a.id);
    expect(history.map((m) => [m.seq, m.role])).toEqual([
      [1, 'user'], [2, 'assistant'], [3, 'user'], [4, 'assistant'], [5, 'tool'], [6, 'assistant'],
    ]);
    expect(history[2].id).toBe(runningId);
    expect(history.map((m) => m.content)).not.toContain('second');
    expect(history.every((m) => m.interrupted === false)).toBe(true);
    // Once the session is idle, reject lets a message through.
    expect((await chat(u, a.id, { message: 'third', session_id: sessionId, multitask_strategy: 'reject' })).body.reply).toBe('echo: third');
  });

  it('enqueue (the default): the new message runs after the running turn, in order, nothing lost', async () => {
    const { u, a, sessionId, key, running } = await busySession();
    const second = chat(u, a.id, { message: 'second', session_id: sessionId, multitask_strategy: 'enqueue' });
    // The second has reached the session (it waits behind the running turn) before the third is sent.
    const admitted = () => runInDurableObject(env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(sessionId)), async (instance) => (instance as unknown as { turns: unknown[] }).turns.length);
    expect(await waitFor(admitted, (n) => n === 2)).toBe(2);
    const third = chat(u, a.id, { message: '/history', session_id: sessionId });
    await release(key);
    const [r1, r2, r3] = await Promise.all([running, second, third]);
    expect(r1.body.finish_reason).toBe('stop');
    expect(r2.body.reply).toBe('echo: second');
    // The third saw both before it: arrival order.
    expect(r3.body.reply).toBe(`history: start | ${slowMessage(key)} | second`);
    const history = await historyOf(u, a.id);
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'tool', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(history.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await hits(key)).toBe(1);
  });

  it('interrupt: the running turn stops in its tool call, its partial answer kept and marked interrupted; the new one runs', async () => {
    const { u, a, sessionId, key, running } = await busySession();
    const second = await chat(u, a.id, { message: 'second', session_id: sessionId, multitask_strategy: 'interrupt' });
    expect(second.status, second.text).toBe(200);
    expect(second.body.reply).toBe('echo: second');
    const first = await running;
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ finish_reason: 'interrupted', reply: '' });
    expect(first.body.tool_calls[0].error).toMatch(/^interrupted/);
    const history = await historyOf(u, a.id);
    expect(history.map((m) => [m.seq, m.role, m.interrupted])).toEqual([
      [1, 'user', false], [2, 'assistant', false],
      [3, 'user', false], [4, 'assistant', false], [5, 'tool', false], [6, 'assistant', true],
      [7, 'user', false], [8, 'assistant', false],
    ]);
    expect(JSON.parse(history[4].content!).error).toMatch(/^interrupted/);
    expect(history[6].content).toBe('second');
    // The model sees the interrupted turn in the history.
    expect((await chat(u, a.id, { message: '/history', session_id: sessionId })).body.reply).toBe(`history: start | ${slowMessage(key)} | second`);
  });

  it('rollback: the running turn is discarded, neither its message nor its answer saved; the new one runs', async () => {
    const { u, a, sessionId, running } = await busySession();
    const second = await chat(u, a.id, { message: 'second', session_id: sessionId, multitask_strategy: 'rollback' });
    expect(second.status, second.text).toBe(200);
    expect(second.body.reply).toBe('echo: second');
    expectError(await running, 409, 'TURN_ROLLED_BACK');
    const history = await historyOf(u, a.id);
    expect(history.map((m) => [m.seq, m.role, m.content])).toEqual([
      [1, 'user', 'start'], [2, 'assistant', 'echo: start'], [3, 'user', 'second'], [4, 'assistant', 'echo: second'],
    ]);
    expect((await chat(u, a.id, { message: '/history', session_id: sessionId })).body.reply).toBe('history: start | second');
  });

  it('the agent\'s multitask_strategy applies when the message names none; a message may override it', async () => {
    const u = await createUser();
    const a = await makeAgent(u, { include_tools: ['http_request'], multitask_strategy: 'reject' });
    expect((await api(`/api/v1/agents/${a.id}`, { token: u.token })).body.multitask_strategy).toBe('reject');
    const sessionId = (await chat(u, a.id, { message: 'start' })).body.session_id;
    const key = crypto.randomUUID();
    const running = chat(u, a.id, { message: slowMessage(key), session_id: sessionId });
    await waitFor(() => hits(key), (n) => n === 1, 10_000);
    expectError(await chat(u, a.id, { message: 'refused', session_id: sessionId }), 409, 'TURN_IN_PROGRESS');
    const queued = chat(u, a.id, { message: 'queued', session_id: sessionId, multitask_strategy: 'enqueue' });
    await release(key);
    expect((await running).body.finish_reason).toBe('stop');
    expect((await queued).body.reply).toBe('echo: queued');
    const contents = (await historyOf(u, a.id)).map((m) => m.content);
    expect(contents).toContain('queued');
    expect(contents).not.toContain('refused');
    // Updating the agent changes the policy (and a new agent defaults to enqueue).
    const updated = await api(`/api/v1/agents/${a.id}`, { method: 'PUT', token: u.token, json: { multitask_strategy: 'interrupt' } });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.multitask_strategy).toBe('interrupt');
    expect((await makeAgent(u)) as unknown as { multitask_strategy: string }).toMatchObject({ multitask_strategy: 'enqueue' });
  });

  it('interrupt while streaming: the stream ends with done, finish_reason interrupted; a bad strategy is 422', async () => {
    const { u, a, sessionId, key, running } = await busySession();
    await release(key);
    await running;
    const streamKey = crypto.randomUUID();
    const stream = openStream(`/api/v1/agent-chat/${a.id}/stream`, u, { message: slowMessage(streamKey), session_id: sessionId });
    await waitFor(() => hits(streamKey), (n) => n === 1, 10_000);
    const second = await chat(u, a.id, { message: 'second', session_id: sessionId, multitask_strategy: 'interrupt' });
    expect(second.body.reply).toBe('echo: second');
    const events = sse(await (await stream).text());
    expect(events.map((e) => e.event)).toEqual(['tool_call', 'tool_result', 'done']);
    expect(dataOf(events[2])).toMatchObject({ finish_reason: 'interrupted', reply: '' });
    expectError(await chat(u, a.id, { message: 'x', session_id: sessionId, multitask_strategy: 'later' }), 422);
  });
});

describe('agent turns that resume mid-way', () => {
  /** An agent on the turns fake's planning model, with http_request. */
  async function plannerAgent(u: User) {
    const cfg = await api('/api/v1/model-configs', {
      token: u.token,
      json: { name: 'Planner', provider: 'openai', model_name: 'planner', base_url: `${env.FAKE_BASE_URL}/turns/v1`, api_key: FAKE_KEY },
    });
    expect(cfg.status, cfg.text).toBe(201);
    return makeAgent(u, { name: 'Planner', include_tools: ['http_request'], model_config: { model_config_id: cfg.body.id } });
  }

  /** A plan of three tool calls (each hitting its own key), the model held after the first `holdAt`. */
  function plan(holdAt: number) {
    const key = crypto.randomUUID();
    const tools = [1, 2, 3].map((i) => ({ name: 'http_request', arguments: { url: `${env.FAKE_BASE_URL}/turns/hit?key=${key}-t${i}` } }));
    return { key, message: `<<<${JSON.stringify({ key, tools, hold_model_at: holdAt })}>>>` };
  }

  const expectedRoles = ['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant', 'tool', 'assistant'];

  it('a streamed turn torn down after two tool calls resumes on reconnect: the rest of the stream, no tool call run twice', async () => {
    const u = await createUser();
    const a = await plannerAgent(u);
    const { key, message } = plan(2);
    const res = await openStream(`/api/v1/agent-chat/${a.id}/stream`, u, { message });
    const sessionId = res.headers.get('X-Session-Id')!;
    const seen = await readUntil(res, (e) => e.event === 'tool_result' && dataOf(e).id === 'call_1');
    expect(seen.map((e) => e.event)).toEqual(['tool_call', 'tool_result', 'tool_call', 'tool_result']);
    // The third model call is in flight (held): the runtime goes down.
    await waitFor(() => hits(`model:${key}:2`), (n) => n === 1, 10_000);
    await abortAllDurableObjects();
    expect([await hits(`${key}-t1`), await hits(`${key}-t2`), await hits(`${key}-t3`)]).toEqual([1, 1, 0]);

    const resumed = await openStream(`/api/v1/agent-chat/${a.id}/stream`, u, { message, session_id: sessionId }, { 'Last-Event-ID': seen.at(-1)!.id! });
    expect(resumed.status).toBe(200);
    const rest = sse(await resumed.text());
    expect(rest[0].event).toBe('resumed');
    expect(dataOf(rest[0]).steps).toBe(5);
    expect(rest.filter((e) => e.event === 'tool_call').map((e) => dataOf(e).id)).toEqual(['call_2']);
    const done = rest.at(-1)!;
    expect(done.event).toBe('done');
    expect(dataOf(done)).toMatchObject({ reply: 'done after 3 tools', iterations: 4, finish_reason: 'stop' });
    const ids = [...seen, ...rest].map((e) => Number(e.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);

    expect([await hits(`${key}-t1`), await hits(`${key}-t2`), await hits(`${key}-t3`)]).toEqual([1, 1, 1]);
    expect([await hits(`model:${key}:0`), await hits(`model:${key}:1`), await hits(`model:${key}:2`), await hits(`model:${key}:3`)]).toEqual([1, 1, 2, 1]);
    const msgs = await messagesOf(sessionId);
    expect(msgs.map((m) => m.role)).toEqual(expectedRoles);
    expect(msgs.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(['call_0', 'call_1', 'call_2']);
    expect(await sessionStorage(sessionId)).toMatchObject({ active_turn: 0, turn_steps: 0, messages: 8 });
  });

  it('a non-streamed turn torn down mid-way is resumed by the object\'s alarm and saved once', async () => {
    const u = await createUser();
    const a = await plannerAgent(u);
    const { key, message } = plan(1);
    const start = await chat(u, a.id, { message: 'hello' });
    const sessionId = start.body.session_id;
    const turn = chat(u, a.id, { message, session_id: sessionId });
    await waitFor(() => hits(`model:${key}:1`), (n) => n === 1, 10_000);
    await abortAllDurableObjects();
    expect((await turn).status).toBe(500);
    expect(await messagesOf(sessionId)).toHaveLength(2);

    expect(await runDurableObjectAlarm(env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(sessionId)))).toBe(true);
    const msgs = await messagesOf(sessionId);
    expect(msgs.map((m) => m.role)).toEqual(['user', 'assistant', ...expectedRoles]);
    expect(msgs.at(-1)!.content).toBe('done after 3 tools');
    expect([await hits(`${key}-t1`), await hits(`${key}-t2`), await hits(`${key}-t3`)]).toEqual([1, 1, 1]);
    expect(await hits(`model:${key}:1`)).toBe(2);
    // The session goes on after the resumed turn.
    expect((await chat(u, a.id, { message: 'next', session_id: sessionId })).body.reply).toBe('done after 0 tools');
    expect(await messagesOf(sessionId)).toHaveLength(12);
  });
});

describe('bare chat', () => {
  it('chats with the default model and continues bare sessions', async () => {
    const u = await createUser();
    const first = await api('/api/v1/agent-chat/bare', { token: u.token, json: { message: 'plain' } });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ reply: 'echo: plain', tool_calls: [], iterations: 1 });
    const session = await env.DB.prepare('SELECT agent_id, kind FROM chat_sessions WHERE id = ?').bind(first.body.session_id).first();
    expect(session).toEqual({ agent_id: null, kind: 'chat' });
    const second = await api('/api/v1/agent-chat/bare', { token: u.token, json: { message: '/history', session_id: first.body.session_id } });
    expect(second.body.reply).toBe('history: plain');
    const call = await env.DB.prepare('SELECT provider, model FROM llm_calls WHERE session_id = ? LIMIT 1').bind(first.body.session_id).first();
    expect(call).toEqual({ provider: 'mock', model: 'mock-1' });

    const a = await makeAgent(u);
    const agentSession = await chat(u, a.id, { message: 'agent' });
    expectError(await api('/api/v1/agent-chat/bare', { token: u.token, json: { message: 'x', session_id: agentSession.body.session_id } }), 422);
    expectError(await api('/api/v1/agent-chat/bare', { json: { message: 'x' } }), 401);
    expectError(await api('/api/v1/agent-chat/bare', { token: u.token, json: { message: 42 } }), 422);
    const other = await createUser('other');
    expectError(await api('/api/v1/agent-chat/bare', { token: other.token, json: { message: 'x', session_id: first.body.session_id } }), 404);
  });

  it('streams bare turns', async () => {
    const u = await createUser();
    const res = await api('/api/v1/agent-chat/bare/stream', { token: u.token, json: { message: 'hi you' } });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sse(res.text);
    expectWellFormed(events);
    expect(events.map((e) => e.event)).toEqual(['token', 'token', 'token', 'done']);
    expect(dataOf(events.at(-1)!)).toMatchObject({ session_id: res.headers.get('X-Session-Id'), reply: 'echo: hi you' });
    expectError(await api('/api/v1/agent-chat/bare/stream', { json: { message: 'x' } }), 401);
    expectError(await api('/api/v1/agent-chat/bare/stream', { token: u.token, json: {} }), 422);
  });
});

describe('POST /agent-chat/orchestrate', () => {
  it('sequential: each output is the next input', async () => {
    const u = await createUser();
    const [a, b] = [await makeAgent(u, { name: 'First' }), await makeAgent(u, { name: 'Second' })];
    const res = await api('/api/v1/agent-chat/orchestrate', { token: u.token, json: { mode: 'sequential', agent_ids: [a.id, b.id], message: 'hi' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.output).toBe('echo: echo: hi');
    expect(res.body.steps.map((s: any) => [s.agent_name, s.input, s.output])).toEqual([
      ['First', 'hi', 'echo: hi'],
      ['Second', 'echo: hi', 'echo: echo: hi'],
    ]);
    const sum = res.body.steps.reduce((n: number, s: any) => n + s.token_usage.total_tokens, 0);
    expect(res.body.token_usage.total_tokens).toBe(sum);
  });

  it('route: the agent named in the message answers, else the first', async () => {
    const u = await createUser();
    const [a, b] = [await makeAgent(u, { name: 'Weather' }), await makeAgent(u, { name: 'Finance' })];
    const named = await api('/api/v1/agent-chat/orchestrate', { token: u.token, json: { mode: 'route', agent_ids: [a.id, b.id], message: 'ask finance about rates' } });
    expect(named.body.routed_to).toMatchObject({ agent_id: b.id, agent_name: 'Finance' });
    expect(named.body.steps).toHaveLength(1);
    expect(named.body.output).toBe('echo: ask finance about rates');
    const unnamed = await api('/api/v1/agent-chat/orchestrate', { token: u.token, json: { mode: 'route', agent_ids: [a.id, b.id], message: 'hello' } });
    expect(unnamed.body.routed_to.agent_id).toBe(a.id);
  });

  it('route with a real default model asks it (JSON output) and falls back to the name match', async () => {
    const u = await createUser();
    const cfg = await api('/api/v1/model-configs', {
      token: u.token,
      json: { name: 'Fake', provider: 'openai', model_name: 'gpt-fake', base_url: `${env.FAKE_BASE_URL}/openai/v1`, api_key: FAKE_KEY, is_default: true },
    });
    expect(cfg.status, cfg.text).toBe(201);
    const [a, b] = [await makeAgent(u, { name: 'Alpha', model_config: { provider: 'mock' } }), await makeAgent(u, { name: 'Beta', model_config: { provider: 'mock' } })];
    const res = await api('/api/v1/agent-chat/orchestrate', { token: u.token, json: { mode: 'route', agent_ids: [a.id, b.id], message: 'beta please' } });
    expect(res.status, res.text).toBe(200);
    // The fake answers prose, not a choice: the deterministic rule decides.
    expect(res.body.routed_to).toMatchObject({ agent_id: b.id, reason: expect.stringContaining('no usable choice') });
    const asked = await env.DB.prepare("SELECT provider, model, status FROM llm_calls WHERE user_id = ? AND source = 'router'").bind(u.id).first();
    expect(asked).toEqual({ provider: 'openai', model: 'gpt-fake', status: 'ok' });
  });

  it('debate: rounds of answers that see each other, then a summary', async () => {
    const u = await createUser();
    const [a, b] = [await makeAgent(u, { name: 'Pro' }), await makeAgent(u, { name: 'Con' })];
    const res = await api('/api/v1/agent-chat/orchestrate', { token: u.token, json: { mode: 'debate', agent_ids: [a.id, b.id], message: 'tabs or spaces?' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.steps.map((s: any) => [s.agent_name, s.round ?? null, s.role])).toEqual([
      ['Pro', 1, 'answer'],
      ['Con', 1, 'answer'],
      ['Pro', 2, 'answer'],
      ['Con', 2, 'answer'],
      ['Pro', null, 'summary'],
    ]);
    expect(res.body.steps[1].input).toContain('[Pro, round 1] echo: tabs or spaces?');
    expect(res.body.output).toBe(res.body.steps[4].output);
    const one = await api('/api/v1/agent-chat/orchestrate', { token: u.token, json: { mode: 'debate', agent_ids: [a.id, b.id], message: 'q', rounds: 1 } });
    expect(one.body.steps).toHaveLength(3);
  });

  it('validates, scopes and refuses stopped agents', async () => {
    const u = await createUser();
    const other = await createUser('other');
    const a = await makeAgent(u);
    const path = '/api/v1/agent-chat/orchestrate';
    expectError(await api(path, { json: { mode: 'route', agent_ids: [a.id], message: 'x' } }), 401);
    expectError(await api(path, { token: u.token, json: { mode: 'vote', agent_ids: [a.id], message: 'x' } }), 422);
    expectError(await api(path, { token: u.token, json: { mode: 'route', agent_ids: [], message: 'x' } }), 422);
    expectError(await api(path, { token: u.token, json: { mode: 'debate', agent_ids: [a.id], message: 'x', rounds: 0 } }), 422);
    expectError(await api(path, { token: other.token, json: { mode: 'route', agent_ids: [a.id], message: 'x' } }), 404);
    expectError(await api(path, { token: u.token, json: { mode: 'route', agent_ids: [crypto.randomUUID()], message: 'x' } }), 404);
    await api(`/api/v1/agents/${a.id}/deploy`, { method: 'POST', token: u.token });
    await api(`/api/v1/agents/${a.id}/stop`, { method: 'POST', token: u.token });
    expectError(await api(path, { token: u.token, json: { mode: 'sequential', agent_ids: [a.id], message: 'x' } }), 409);
  });
});

describe('POST /agent-chat/orchestrate/graph', () => {
  it('runs a DAG: a node receives its predecessors’ outputs', async () => {
    const u = await createUser();
    const [a, b, c, d] = [await makeAgent(u, { name: 'A' }), await makeAgent(u, { name: 'B' }), await makeAgent(u, { name: 'C' }), await makeAgent(u, { name: 'D' })];
    const res = await api('/api/v1/agent-chat/orchestrate/graph', {
      token: u.token,
      json: {
        nodes: [
          { id: 'a', agent_id: a.id },
          { id: 'b', agent_id: b.id },
          { id: 'c', agent_id: c.id },
          { id: 'd', agent_id: d.id },
        ],
        edges: [
          { source: 'a', target: 'b' },
          { source: 'a', target: 'c' },
          { source: 'b', target: 'd' },
          { source: 'c', target: 'd' },
        ],
        message: 'go',
      },
    });
    expect(res.status, res.text).toBe(200);
    const byNode = Object.fromEntries(res.body.steps.map((s: any) => [s.node_id, s]));
    expect(byNode.a.input).toBe('go');
    expect(byNode.b.input).toBe('echo: go');
    expect(byNode.d.input).toBe('[b] echo: echo: go\n\n[c] echo: echo: go');
    expect(res.body.output).toBe(byNode.d.output);
    expect(res.body.steps[0].node_id).toBe('a');
  });

  it('answers 422 for cycles and unknown nodes, 404 for others’ agents', async () => {
    const u = await createUser();
    const other = await createUser('other');
    const a = await makeAgent(u);
    const path = '/api/v1/agent-chat/orchestrate/graph';
    const nodes = [
      { id: 'x', agent_id: a.id },
      { id: 'y', agent_id: a.id },
    ];
    const cycle = await api(path, { token: u.token, json: { nodes, edges: [{ source: 'x', target: 'y' }, { source: 'y', target: 'x' }], message: 'm' } });
    expect(expectError(cycle, 422, 'VALIDATION_ERROR').message).toMatch(/cycle/);
    expectError(await api(path, { token: u.token, json: { nodes, edges: [{ source: 'x', target: 'z' }], message: 'm' } }), 422);
    expectError(await api(path, { token: u.token, json: { nodes: [], message: 'm' } }), 422);
    expectError(await api(path, { token: other.token, json: { nodes, message: 'm' } }), 404);
    expectError(await api(path, { json: { nodes, message: 'm' } }), 401);
  });
});

describe('/agent-chat/branches', () => {
  async function conversation(u: User, agentId: string) {
    const one = await chat(u, agentId, { message: 'first' });
    const sessionId = one.body.session_id;
    await chat(u, agentId, { message: 'second', session_id: sessionId });
    await chat(u, agentId, { message: 'third', session_id: sessionId });
    return { sessionId, firstReplyId: one.body.message_id as string };
  }

  it('forks after a message; resuming the branch leaves the original untouched', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const { sessionId, firstReplyId } = await conversation(u, a.id);
    const before = await messagesOf(sessionId);

    const created = await api('/api/v1/agent-chat/branches', { token: u.token, json: { session_id: sessionId, message_id: firstReplyId, name: 'What if' } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ session_id: sessionId, agent_id: a.id, name: 'What if', forked_from_message_id: firstReplyId, message_count: 2 });
    const branchId = created.body.id;

    const resumed = await api(`/api/v1/agent-chat/branches/${branchId}/resume`, { token: u.token, json: { message: '/history' } });
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body).toMatchObject({ session_id: branchId, reply: 'history: first' });
    const detail = await api(`/api/v1/agent-chat/branches/${branchId}`, { token: u.token });
    expect(detail.body.messages.map((m: any) => [m.seq, m.content])).toEqual([
      [1, 'first'],
      [2, 'echo: first'],
      [3, '/history'],
      [4, 'history: first'],
    ]);
    expect(detail.body.message_count).toBe(4);
    expect(detail.body.messages[0].id).not.toBe(before[0].id);

    // The original: same rows, and its own history continues as before.
    expect(await messagesOf(sessionId)).toEqual(before);
    const original = await chat(u, a.id, { message: '/history', session_id: sessionId });
    expect(original.body.reply).toBe('history: first | second | third');
    // The branch can also be continued like any session of the agent.
    expect((await chat(u, a.id, { message: '/history', session_id: branchId })).body.reply).toBe('history: first | /history');
  });

  it('lists (filtered by session), deletes, and keeps tool results with a forked tool call', async () => {
    const u = await createUser();
    const sub = await makeAgent(u);
    const main = await mainAgentOf(u, sub);
    const turn = await chat(u, main.id, { message: `/tool ${delegationToolName(sub.id)} {"task":"t"}` });
    const msgs = await messagesOf(turn.body.session_id);
    const callMessage = msgs.find((m) => m.role === 'assistant' && m.tool_calls)!;
    const b1 = await api('/api/v1/agent-chat/branches', { token: u.token, json: { session_id: turn.body.session_id, message_id: callMessage.id } });
    expect(b1.body.message_count).toBe(3);
    expect(b1.body.name).toContain('(branch)');
    const other = await chat(u, main.id, { message: 'elsewhere' });
    const b2 = await api('/api/v1/agent-chat/branches', { token: u.token, json: { session_id: other.body.session_id, message_id: other.body.message_id } });

    const all = await api('/api/v1/agent-chat/branches', { token: u.token });
    expect(all.body).toMatchObject({ total: 2, page: 1, page_size: 20 });
    expect(all.body.items.map((b: any) => b.id)).toEqual([b2.body.id, b1.body.id]);
    const filtered = await api(`/api/v1/agent-chat/branches?session_id=${turn.body.session_id}`, { token: u.token });
    expect(filtered.body.items.map((b: any) => b.id)).toEqual([b1.body.id]);
    const paged = await api('/api/v1/agent-chat/branches?page=2&page_size=1', { token: u.token });
    expect(paged.body.items.map((b: any) => b.id)).toEqual([b1.body.id]);

    const del = await api(`/api/v1/agent-chat/branches/${b1.body.id}`, { method: 'DELETE', token: u.token });
    expect(del.status).toBe(204);
    expectError(await api(`/api/v1/agent-chat/branches/${b1.body.id}`, { token: u.token }), 404);
    expect(await messagesOf(b1.body.id)).toEqual([]);
    expect(await messagesOf(turn.body.session_id)).toHaveLength(4);
    expect((await api('/api/v1/agent-chat/branches', { token: u.token })).body.total).toBe(1);
    expect(await sessionStorage(b1.body.id)).toEqual({});
  });

  it('deleting an agent clears the objects of its sessions and branches', async () => {
    const u = await createUser();
    const a = await makeAgent(u);
    const keep = await makeAgent(u);
    const first = await chat(u, a.id, { message: 'hello' });
    const streamed = await openStream(`/api/v1/agent-chat/${a.id}/stream`, u, { message: 'streamed' });
    const streamedId = streamed.headers.get('X-Session-Id')!;
    await streamed.text();
    const branch = await api('/api/v1/agent-chat/branches', { token: u.token, json: { session_id: first.body.session_id, message_id: first.body.message_id } });
    expect(branch.status, branch.text).toBe(201);
    await api(`/api/v1/agent-chat/branches/${branch.body.id}/resume`, { token: u.token, json: { message: 'more' } });
    const other = await chat(u, keep.id, { message: 'stays' });

    expect(await sessionStorage(first.body.session_id)).toMatchObject({ messages: 2 });
    expect((await sessionStorage(streamedId)).events).toBeGreaterThan(0);
    expect(await sessionStorage(branch.body.id)).toMatchObject({ messages: 4 });

    const del = await api(`/api/v1/agents/${a.id}`, { method: 'DELETE', token: u.token });
    expect(del.status, del.text).toBe(204);
    for (const id of [first.body.session_id, streamedId, branch.body.id]) {
      expect(await sessionStorage(id)).toEqual({});
      expect(await messagesOf(id)).toEqual([]);
    }
    // Another agent's conversation is untouched.
    expect(await sessionStorage(other.body.session_id)).toMatchObject({ messages: 2 });
  });

  it('branches bare sessions too', async () => {
    const u = await createUser();
    const first = await api('/api/v1/agent-chat/bare', { token: u.token, json: { message: 'root' } });
    const branch = await api('/api/v1/agent-chat/branches', { token: u.token, json: { session_id: first.body.session_id, message_id: first.body.user_message_id } });
    expect(branch.body).toMatchObject({ agent_id: null, message_count: 1 });
    const resumed = await api(`/api/v1/agent-chat/branches/${branch.body.id}/resume`, { token: u.token, json: { message: 'again', streamlined: true } });
    expect(resumed.body).toEqual({ session_id: branch.body.id, reply: 'echo: again' });
  });

  it('scopes branches to their owner and validates', async () => {
    const u = await createUser();
    const other = await createUser('other');
    const a = await makeAgent(u);
    const { sessionId, firstReplyId } = await conversation(u, a.id);
    const path = '/api/v1/agent-chat/branches';
    const branch = await api(path, { token: u.token, json: { session_id: sessionId, message_id: firstReplyId } });

    expectError(await api(path, { json: { session_id: sessionId, message_id: firstReplyId } }), 401);
    expectError(await api(path), 401);
    expectError(await api(path, { token: other.token, json: { session_id: sessionId, message_id: firstReplyId } }), 404);
    expectError(await api(path, { token: u.token, json: { session_id: crypto.randomUUID(), message_id: firstReplyId } }), 404);
    expect(expectError(await api(path, { token: u.token, json: { session_id: sessionId, message_id: crypto.randomUUID() } }), 422).message).toMatch(/message_id/);
    expectError(await api(path, { token: u.token, json: { session_id: sessionId } }), 422);
    expectError(await api(`${path}?page_size=500`, { token: u.token }), 422);
    for (const [method, suffix, json] of [
      ['GET', '', undefined],
      ['DELETE', '', undefined],
      ['POST', '/resume', { message: 'x' }],
    ] as const) {
      expectError(await api(`${path}/${branch.body.id}${suffix}`, { method, token: other.token, json }), 404);
      expectError(await api(`${path}/${crypto.randomUUID()}${suffix}`, { method, token: u.token, json }), 404);
      expectError(await api(`${path}/${branch.body.id}${suffix}`, { method, json }), 401);
    }
    // A plain session is not a branch.
    expectError(await api(`${path}/${sessionId}`, { token: u.token }), 404);
    expectError(await api(`${path}/${branch.body.id}/resume`, { token: u.token, json: {} }), 422);
    expect((await api(path, { token: other.token })).body.total).toBe(0);
  });
});

describe('platform tools: run_agent and run_workflow', () => {
  /** `/tool run_agent` messages nested `levels` deep around `innermost`: each turn asks the agent to run itself with the next one. */
  const selfCall = (agentId: string, levels: number, innermost: string): string =>
    levels === 0 ? innermost : `/tool run_agent ${JSON.stringify({ agent_id: agentId, message: selfCall(agentId, levels - 1, innermost) })}`;

  it('run_agent: one turn of an agent the caller may run, with its answer and token usage; another user’s agent is not found', async () => {
    const u = await createUser();
    const helper = await makeAgent(u, { name: 'Helper' });
    const a = await makeAgent(u, { include_tools: ['run_agent'] });
    const res = await chat(u, a.id, { message: `/tool run_agent ${JSON.stringify({ agent_id: helper.id, message: 'hello there' })}` });
    expect(res.status, res.text).toBe(200);
    const [call] = res.body.tool_calls;
    expect(call.error).toBeUndefined();
    expect(call.output).toMatchObject({ agent_id: helper.id, agent_name: 'Helper', reply: 'echo: hello there', iterations: 1, finish_reason: 'stop' });
    expect(call.output.token_usage.total_tokens).toBeGreaterThan(0);
    expect(res.body.reply).toBe(`tool run_agent returned: ${JSON.stringify(call.output)}`);
    // The helper's model call is recorded for its turn (source tool), the tool call in tool_usage.
    const calls = await env.DB.prepare("SELECT count(*) AS n FROM llm_calls WHERE agent_id = ? AND source = 'tool'").bind(helper.id).first<{ n: number }>();
    expect(calls!.n).toBe(1);
    const usage = await env.DB.prepare("SELECT caller, agent_id, ok FROM tool_usage WHERE tool_name = 'run_agent' AND user_id = ?").bind(u.id).all();
    expect(usage.results).toEqual([{ caller: 'agent', agent_id: a.id, ok: 1 }]);

    const other = await createUser('other');
    const foreign = await makeAgent(other);
    const denied = await chat(u, a.id, { message: `/tool run_agent ${JSON.stringify({ agent_id: foreign.id, message: 'hi' })}` });
    expect(denied.body.tool_calls[0]).toMatchObject({ output: null, error: expect.stringMatching(/^NOT_FOUND: Agent not found/) });
    const missing = await chat(u, a.id, { message: `/tool run_agent ${JSON.stringify({ agent_id: crypto.randomUUID(), message: 'hi' })}` });
    expect(missing.body.tool_calls[0].error).toMatch(/^NOT_FOUND/);
    const invalid = await chat(u, a.id, { message: '/tool run_agent {"agent_id":"x"}' });
    expect(invalid.body.tool_calls[0].error).toMatch(/^VALIDATION_ERROR: .*arguments\.message: is required/);
  });

  it('run_agent: an agent running itself stops at the delegation depth limit with a clear error', async () => {
    const u = await createUser();
    const a = await makeAgent(u, { include_tools: ['run_agent'] });
    const res = await chat(u, a.id, { message: selfCall(a.id, 8, 'bottom') });
    expect(res.status, res.text).toBe(200);
    // Follow the nested answers down: three nested turns ran, the fourth call was refused.
    let output = res.body.tool_calls[0].output;
    let levels = 0;
    let refusal: string | undefined;
    while (output) {
      levels++;
      const [inner] = output.tool_calls;
      refusal = inner.error;
      output = inner.output;
    }
    expect(levels).toBe(MAX_DELEGATION_DEPTH);
    expect(refusal).toMatch(/^MAX_DEPTH: run_agent refused: .* nest at most 3 deep/);
    // Bounded cost: two model calls per nested turn (the tool call and the answer), none beyond the limit.
    const nested = await env.DB.prepare("SELECT count(*) AS n FROM llm_calls WHERE agent_id = ? AND source = 'tool'").bind(a.id).first<{ n: number }>();
    expect(nested!.n).toBe(2 * MAX_DELEGATION_DEPTH);
  });

  it('run_workflow: waits for the outputs, or answers the execution id of a run still going; another user’s workflow is not found', async () => {
    const u = await createUser();
    const greet = await api('/api/v1/workflows', {
      token: u.token,
      json: {
        name: 'greet',
        graph: {
          nodes: [{ id: 'start', type: 'start' }, { id: 't', type: 'template', config: { template: 'hi {{inputs.name}}' } }, { id: 'end', type: 'end', config: { outputs: { text: '{{t.text}}' } } }],
          edges: [{ source: 'start', target: 't' }, { source: 't', target: 'end' }],
        },
        inputs_schema: [{ name: 'name', type: 'string', required: true }],
      },
    });
    expect(greet.status, greet.text).toBe(201);
    const a = await makeAgent(u, { include_tools: ['run_workflow'] });
    const res = await chat(u, a.id, { message: `/tool run_workflow ${JSON.stringify({ workflow_id: greet.body.id, inputs: { name: 'Ada' } })}` });
    const [call] = res.body.tool_calls;
    expect(call.error).toBeUndefined();
    expect(call.output).toMatchObject({ workflow_id: greet.body.id, status: 'succeeded', outputs: { text: 'hi Ada' } });
    const row = await env.DB.prepare('SELECT owner_id, trigger, status FROM executions WHERE id = ?').bind(call.output.execution_id).first();
    expect(row).toEqual({ owner_id: u.id, trigger: 'tool', status: 'succeeded' });

    // Missing inputs are the tool's validation error.
    const bad = await chat(u, a.id, { message: `/tool run_workflow ${JSON.stringify({ workflow_id: greet.body.id })}` });
    expect(bad.body.tool_calls[0].error).toMatch(/^VALIDATION_ERROR: .*name/);

    // A run longer than the timeout: the execution id and status to follow.
    const slow = await api('/api/v1/workflows', {
      token: u.token,
      json: {
        name: 'slow',
        graph: {
          nodes: [{ id: 'start', type: 'start' }, { id: 'wait', type: 'delay', config: { duration_ms: 600_000 } }, { id: 'end', type: 'end', config: { outputs: { done: true } } }],
          edges: [{ source: 'start', target: 'wait' }, { source: 'wait', target: 'end' }],
        },
      },
    });
    const late = await chat(u, a.id, { message: `/tool run_workflow ${JSON.stringify({ workflow_id: slow.body.id, timeout_seconds: 1 })}` });
    const pending = late.body.tool_calls[0].output;
    expect(pending).toMatchObject({ workflow_id: slow.body.id, status: 'running', outputs: null });
    expect(pending.message).toContain(`GET /api/v1/executions/${pending.execution_id}`);
    const followed = await api(`/api/v1/executions/${pending.execution_id}`, { token: u.token });
    expect(followed.body).toMatchObject({ id: pending.execution_id, status: 'running', trigger: 'tool' });
    expect((await api(`/api/v1/executions/${pending.execution_id}/cancel`, { token: u.token, method: 'POST' })).status).toBe(200);

    const other = await createUser('other');
    const b = await makeAgent(other, { include_tools: ['run_workflow'] });
    const denied = await chat(other, b.id, { message: `/tool run_workflow ${JSON.stringify({ workflow_id: greet.body.id, inputs: { name: 'x' } })}` });
    expect(denied.body.tool_calls[0]).toMatchObject({ output: null, error: 'NOT_FOUND: Workflow not found' });
  });
});

describe('OpenAPI', () => {
  it('documents the chat endpoints, SSE responses included', async () => {
    const doc = (await api('/openapi.json')).body;
    for (const p of ['/bare', '/bare/stream', '/orchestrate', '/orchestrate/graph', '/branches', '/branches/{branch_id}', '/branches/{branch_id}/resume', '/{agent_id}', '/{agent_id}/stream']) {
      expect(doc.paths[`/api/v1/agent-chat${p}`], p).toBeDefined();
    }
    expect(doc.paths['/api/v1/agent-chat/{agent_id}/stream'].post.responses['200'].content['text/event-stream']).toBeDefined();
    expect(doc.paths['/api/v1/agents/{agent_id}/execute'].post).toBeDefined();
  });
});
