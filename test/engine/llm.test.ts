import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { complete, defaultTarget, streamComplete } from '../../src/engine/llm/gateway';
import { LlmError } from '../../src/engine/llm/errors';
import type { ChatMessage, StreamEvent } from '../../src/engine/llm/types';

const meta = { user_id: 'u1' };
const target = { provider: 'mock', model_name: 'mock-1' };
const user = (content: string): ChatMessage => ({ role: 'user', content });

describe('mock provider', () => {
  it('is the local default', () => {
    expect(defaultTarget(env)).toEqual({ provider: 'mock', model_name: 'mock-1' });
  });

  it('echoes the last user message with usage', async () => {
    const r = await complete(env, target, { messages: [{ role: 'system', content: 'be brief' }, user('hello there')] }, meta);
    expect(r.content).toBe('echo: hello there');
    expect(r.usage.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage.total_tokens).toBe(r.usage.prompt_tokens + r.usage.completion_tokens);
  });

  it('streams several token events that join to the reply', async () => {
    const events: StreamEvent[] = [];
    for await (const e of streamComplete(env, target, { messages: [user('one two three four')] }, meta)) events.push(e);
    const tokens = events.filter((e) => e.type === 'token');
    expect(tokens.length).toBeGreaterThan(2);
    expect(tokens.map((e) => (e as { text: string }).text).join('')).toBe('echo: one two three four');
    expect(events.at(-1)?.type).toBe('done');
  });

  it('/tool calls the tool, then reports its result', async () => {
    const first = await complete(env, target, { messages: [user('/tool calculator {"expression":"1+2"}')] }, meta);
    expect(first.tool_calls).toEqual([{ id: expect.any(String), name: 'calculator', arguments: '{"expression":"1+2"}' }]);
    expect(first.finish_reason).toBe('tool_calls');
    const second = await complete(
      env,
      target,
      {
        messages: [
          user('/tool calculator {"expression":"1+2"}'),
          { role: 'assistant', content: null, tool_calls: first.tool_calls },
          { role: 'tool', content: '{"result":3}', tool_call_id: first.tool_calls[0].id, name: 'calculator' },
        ],
      },
      meta,
    );
    expect(second.content).toBe('tool calculator returned: {"result":3}');
  });

  it('/history lists earlier user messages oldest first', async () => {
    const r = await complete(env, target, { messages: [user('a'), { role: 'assistant', content: 'echo: a' }, user('b'), user('/history')] }, meta);
    expect(r.content).toBe('history: a | b');
  });

  it('/error fails like an upstream error', async () => {
    await expect(complete(env, target, { messages: [user('/error')] }, meta)).rejects.toBeInstanceOf(LlmError);
  });
});

// ---------------------------------------------------------------------------------------------
// openai provider against the fake OpenAI-compatible server (test/fakes/openai.ts)

const KEY = 'sk-fake-0123456789';
const openai = (model: string, extra: Record<string, unknown> = {}) => ({
  provider: 'openai',
  model_name: model,
  base_url: `${env.FAKE_BASE_URL}/openai/v1`,
  api_key: KEY,
  ...extra,
});

async function collect(stream: AsyncIterable<StreamEvent>) {
  const events: StreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

async function attempts(key: string): Promise<number> {
  const res = await fetch(`${env.FAKE_BASE_URL}/openai/_attempts?key=${encodeURIComponent(key)}`);
  return ((await res.json()) as { count: number }).count;
}

async function lastCall(userId: string) {
  return env.DB.prepare('SELECT * FROM llm_calls WHERE user_id = ? ORDER BY rowid DESC LIMIT 1').bind(userId).first<Record<string, any>>();
}

describe('openai provider: non-streaming', () => {
  it('parses content, usage and model from a completion', async () => {
    const r = await complete(env, openai('gpt-fake'), { messages: [user('bonjour')] }, { user_id: 'u-oa1', source: 'test' });
    expect(r).toEqual({
      content: 'fake: bonjour',
      tool_calls: [],
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
      finish_reason: 'stop',
      model: 'gpt-fake',
    });
  });

  it('sends the wire request: bearer key, model, tools as functions, temperature, max_tokens, JSON mode', async () => {
    const r = await complete(
      env,
      openai('fake-inspect', { temperature: 0.3, max_tokens: 99 }),
      {
        messages: [
          { role: 'system', content: 'sys' },
          user('q'),
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', name: 'calc', arguments: '{"x":1}' }] },
          { role: 'tool', content: '2', tool_call_id: 'c1', name: 'calc' },
        ],
        tools: [{ name: 'calc', description: 'adds', parameters: { type: 'object', properties: {} } }],
        response_format: 'json',
      },
      meta,
    );
    const seen = JSON.parse(r.content);
    expect(seen.authorization).toBe(`Bearer ${KEY}`);
    expect(seen.body).toEqual({
      model: 'fake-inspect',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'q' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'calc', arguments: '{"x":1}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '2' },
      ],
      tools: [{ type: 'function', function: { name: 'calc', description: 'adds', parameters: { type: 'object', properties: {} } } }],
      temperature: 0.3,
      max_tokens: 99,
      response_format: { type: 'json_object' },
    });
  });

  it('parses tool calls', async () => {
    const r = await complete(env, openai('fake-tools'), { messages: [user('weather?')] }, meta);
    expect(r.finish_reason).toBe('tool_calls');
    expect(r.content).toBe('');
    expect(r.tool_calls).toEqual([
      { id: 'call_weather_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_calc_2', name: 'calculator', arguments: '{"expression":"2*3"}' },
    ]);
  });

  it('retries a 429 after the Retry-After it asks for, then succeeds', async () => {
    const text = `rl-${crypto.randomUUID()}`;
    const started = Date.now();
    const r = await complete(env, openai('fake-429'), { messages: [user(text)] }, meta);
    expect(r.content).toBe(`fake: ${text}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(await attempts(`fake-429:${text}`)).toBe(2);
  });

  it('gives up on persistent 5xx after three attempts with a 502 LLM_ERROR, and records the error', async () => {
    const text = `boom-${crypto.randomUUID()}`;
    const err = await complete(env, openai('fake-500'), { messages: [user(text)] }, { user_id: 'u-oa500', agent_id: 'a1', session_id: 's1', source: 'chat' }).catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err).toMatchObject({ status: 502, code: 'LLM_ERROR', upstreamStatus: 500 });
    expect(err.message).toContain('The server had an error');
    expect(await attempts(`fake-500:${text}`)).toBe(3);
    const row = await lastCall('u-oa500');
    expect(row).toMatchObject({ provider: 'openai', model: 'fake-500', status: 'error', agent_id: 'a1', session_id: 's1', source: 'chat', prompt_tokens: 0 });
    expect(row!.error).toContain('The server had an error');
  });

  it('does not retry a 401 and reports the upstream message', async () => {
    const text = `auth-${crypto.randomUUID()}`;
    const err = await complete(env, openai('gpt-fake', { api_key: 'sk-wrong' }), { messages: [user(text)] }, meta).catch((e) => e);
    expect(err).toMatchObject({ code: 'LLM_ERROR', upstreamStatus: 401 });
    expect(err.message).toContain('Incorrect API key provided');
  });

  it('times out per attempt (504) and goes through the SSRF guard', async () => {
    await expect(complete(env, openai('fake-slow'), { messages: [user('x')], timeout_ms: 200 }, meta)).rejects.toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' });
    await expect(complete(env, { ...openai('x'), base_url: 'http://169.254.169.254/v1' }, { messages: [user('x')] }, meta)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
  });
});

describe('openai provider: streaming', () => {
  it('streams content deltas, asks for and reads usage from the last chunk', async () => {
    const events = await collect(streamComplete(env, openai('gpt-fake'), { messages: [user('stream me please')] }, { user_id: 'u-st1', source: 'test' }));
    const tokens = events.filter((e) => e.type === 'token').map((e) => (e as { text: string }).text);
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.join('')).toBe('fake: stream me please');
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    expect((done as Extract<StreamEvent, { type: 'done' }>).result).toMatchObject({
      content: 'fake: stream me please',
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
      finish_reason: 'stop',
    });
    const row = await lastCall('u-st1');
    expect(row).toMatchObject({ status: 'ok', prompt_tokens: 11, completion_tokens: 7, provider: 'openai', model: 'gpt-fake', source: 'test' });
    expect(row!.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('assembles tool calls whose fragments are split across chunks and network writes', async () => {
    const events = await collect(streamComplete(env, openai('fake-tools'), { messages: [user('weather?')], tools: [{ name: 'get_weather', description: '', parameters: {} }] }, meta));
    const calls = events.filter((e) => e.type === 'tool_call').map((e) => (e as { call: unknown }).call);
    expect(calls).toEqual([
      { id: 'call_weather_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_calc_2', name: 'calculator', arguments: '{"expression":"2*3"}' },
    ]);
    const done = events.at(-1) as Extract<StreamEvent, { type: 'done' }>;
    expect(done.result.finish_reason).toBe('tool_calls');
    expect(done.result.tool_calls).toEqual(calls);
    expect(done.result.usage.total_tokens).toBe(18);
    expect(events.some((e) => e.type === 'token')).toBe(false);
  });

  it('fails with LLM_ERROR on a malformed chunk, after the good part was delivered', async () => {
    const events: StreamEvent[] = [];
    const err = await (async () => {
      for await (const e of streamComplete(env, openai('fake-malformed'), { messages: [user('x')] }, { user_id: 'u-bad' })) events.push(e);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err.message).toMatch(/malformed stream chunk/);
    expect(events.map((e) => e.type)).toEqual(['token']);
    expect((await lastCall('u-bad'))!.status).toBe('error');
  });

  it('retries a 429 before the first event', async () => {
    const text = `srl-${crypto.randomUUID()}`;
    const events = await collect(streamComplete(env, openai('fake-429'), { messages: [user(text)] }, meta));
    expect((events.at(-1) as Extract<StreamEvent, { type: 'done' }>).result.content).toBe(`fake: ${text}`);
    expect(await attempts(`fake-429:${text}`)).toBe(2);
  });

  it('is cancelled by the caller’s AbortSignal mid-stream and records the cancellation', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const events: StreamEvent[] = [];
    const err = await (async () => {
      for await (const e of streamComplete(env, openai('fake-hang'), { messages: [user('slowly now')], signal: controller.signal }, { user_id: 'u-cancel' })) {
        events.push(e);
        controller.abort();
      }
    })().catch((e) => e);
    expect(err).toBeDefined();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(events).toHaveLength(1);
    const row = await lastCall('u-cancel');
    expect(row).toMatchObject({ status: 'error', error: 'cancelled by the caller' });
  });
});

describe('workers-ai provider', () => {
  const target = { provider: 'workers-ai', model_name: '@cf/meta/llama-3.1-8b-instruct' };

  it('answers 503 MODEL_UNAVAILABLE when the AI binding is absent, and records it', async () => {
    const err = await complete({ ...env, AI: undefined }, target, { messages: [user('hi')] }, { user_id: 'u-wai' }).catch((e) => e);
    expect(err).toMatchObject({ status: 503, code: 'MODEL_UNAVAILABLE' });
    expect((await lastCall('u-wai'))!.error).toContain('MODEL_UNAVAILABLE');
  });

  it('maps the binding’s answer, tool calls and usage', async () => {
    const seen: unknown[] = [];
    const AI = {
      run: async (model: string, inputs: Record<string, unknown>) => {
        seen.push({ model, inputs });
        return { response: 'hello from AI', tool_calls: [{ name: 'calc', arguments: { x: 1 } }], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } };
      },
    } as unknown as Ai;
    const r = await complete({ ...env, AI }, target, { messages: [user('hi')], max_tokens: 10, response_format: 'json' }, meta);
    expect(r).toMatchObject({ content: 'hello from AI', usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }, finish_reason: 'tool_calls' });
    expect(r.tool_calls).toEqual([{ id: 'call_0', name: 'calc', arguments: '{"x":1}' }]);
    expect(seen).toEqual([{ model: target.model_name, inputs: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 10, response_format: { type: 'json_object' } } }]);
  });

  it('streams the binding’s SSE', async () => {
    const sse = ['data: {"response":"Hel"}\n\n', 'data: {"response":"lo"}\n\n', 'data: {"response":"","usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}\n\n', 'data: [DONE]\n\n'];
    const AI = {
      run: async () => new ReadableStream({ start(c) { for (const s of sse) c.enqueue(new TextEncoder().encode(s)); c.close(); } }),
    } as unknown as Ai;
    const events = await collect(streamComplete({ ...env, AI }, target, { messages: [user('hi')] }, meta));
    expect(events.filter((e) => e.type === 'token').map((e) => (e as { text: string }).text)).toEqual(['Hel', 'lo']);
    expect((events.at(-1) as Extract<StreamEvent, { type: 'done' }>).result).toMatchObject({ content: 'Hello', usage: { total_tokens: 6 } });
  });
});

describe('llm_calls and the mock provider', () => {
  it('records successful mock calls with tokens and the mock /error as an error', async () => {
    const r = await complete(env, target, { messages: [user('count me')] }, { user_id: 'u-rec', agent_id: 'ag', source: 'chat' });
    const ok = await lastCall('u-rec');
    expect(ok).toMatchObject({ provider: 'mock', model: 'mock-1', status: 'ok', agent_id: 'ag', prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens, error: null });
    expect(ok!.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    await complete(env, target, { messages: [user('/error')] }, { user_id: 'u-rec' }).catch(() => undefined);
    const failed = await lastCall('u-rec');
    expect(failed).toMatchObject({ status: 'error' });
    expect(failed!.error).toContain('simulated upstream error');
  });
});
