import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASE, api, createUser, expectError } from '../../support/helpers';
import { createAgent, createApiKey, workerFetch } from '../../support/protocol-helpers';
import { chain, createWorkflow } from '../../support/wf-helpers';

type User = Awaited<ReturnType<typeof createUser>>;
let owner: User;
let other: User;
let key: string;
let client: OpenAI;

beforeAll(async () => {
  await createUser('admin');
  owner = await createUser('owner');
  other = await createUser('other');
  key = await createApiKey(owner.token);
  // The official client, pointed at the worker under test.
  client = new OpenAI({ apiKey: key, baseURL: `${BASE}/api/v1/openai`, fetch: workerFetch, maxRetries: 0 });
});

describe('OpenAI-compatible API with the official openai client', () => {
  it('lists deployed agents as models, not drafts nor other users’ agents', async () => {
    const deployed = await createAgent(owner.token, { name: 'Listed' });
    const draft = await createAgent(owner.token, { name: 'Draft' }, false);
    const foreign = await createAgent(other.token, { name: 'Foreign' });
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toContain(deployed.id);
    expect(ids).not.toContain(draft.id);
    expect(ids).not.toContain(foreign.id);
    const model = page.data.find((m) => m.id === deployed.id)!;
    expect(model).toMatchObject({ object: 'model', owned_by: owner.id });
    expect(Number.isInteger(model.created)).toBe(true);
  });

  it('runs the agent for a non-streaming completion, with usage', async () => {
    const agent = await createAgent(owner.token);
    const completion = await client.chat.completions.create({ model: agent.id, messages: [{ role: 'user', content: 'hello there' }] });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe(agent.id);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0].message).toMatchObject({ role: 'assistant', content: 'echo: hello there' });
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
  });

  it('runs the agent’s platform tools (run_workflow)', async () => {
    const wf = await createWorkflow(owner.token, chain([], { ok: 'yes' }));
    const agent = await createAgent(owner.token, { include_tools: ['run_workflow'] });
    const completion = await client.chat.completions.create({ model: agent.id, messages: [{ role: 'user', content: `/tool run_workflow {"workflow_id":"${wf.id}"}` }] });
    expect(completion.choices[0].message.content).toMatch(/^tool run_workflow returned: \{.*"status":"succeeded","outputs":\{"ok":"yes"\}/);
  });

  it('passes earlier messages as history and the last user message as the turn', async () => {
    const agent = await createAgent(owner.token);
    const completion = await client.chat.completions.create({
      model: agent.id,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'echo: first' },
        { role: 'user', content: [{ type: 'text', text: 'sec' }, { type: 'text', text: 'ond' }] },
        { role: 'assistant', content: 'echo: second' },
        { role: 'user', content: '/history' },
      ],
    });
    expect(completion.choices[0].message.content).toBe('history: first | second');
  });

  it('streams chat.completion.chunk deltas, a finish_reason, usage on request, and [DONE]', async () => {
    const agent = await createAgent(owner.token);
    const stream = await client.chat.completions.create({
      model: agent.id,
      messages: [{ role: 'user', content: 'stream these several words please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === agent.id)).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(contentChunks.length).toBeGreaterThan(1);
    expect(contentChunks.map((c) => c.choices[0].delta.content).join('')).toBe('echo: stream these several words please');
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finish.map((c) => c.choices[0].finish_reason)).toEqual(['stop']);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('streams without a usage chunk unless asked, ending with data: [DONE] on the wire', async () => {
    const agent = await createAgent(owner.token);
    const res = await api('/api/v1/openai/chat/completions', { token: key, json: { model: agent.id, messages: [{ role: 'user', content: 'hi' }], stream: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const lines = res.text.split('\n\n').filter(Boolean);
    expect(lines.every((l) => l.startsWith('data: '))).toBe(true);
    expect(lines.at(-1)).toBe('data: [DONE]');
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l.slice(6)));
    expect(chunks.every((c) => !('usage' in c) && c.choices.length === 1)).toBe(true);
  });

  it('reports a model failure in the stream and as 502 without it', async () => {
    const agent = await createAgent(owner.token);
    await expect(client.chat.completions.create({ model: agent.id, messages: [{ role: 'user', content: '/error' }] })).rejects.toMatchObject({ status: 502 });
    const stream = await client.chat.completions.create({ model: agent.id, messages: [{ role: 'user', content: '/error' }], stream: true });
    await expect(async () => {
      for await (const _ of stream) void _;
    }).rejects.toThrow();
  });

  it('accepts a JWT as well as an API key; 401 without credentials', async () => {
    const agent = await createAgent(owner.token);
    const viaJwt = await api('/api/v1/openai/chat/completions', { token: owner.token, json: { model: agent.id, messages: [{ role: 'user', content: 'jwt' }] } });
    expect(viaJwt.status).toBe(200);
    expect(viaJwt.body.choices[0].message.content).toBe('echo: jwt');
    expectError(await api('/api/v1/openai/models'), 401, 'UNAUTHORIZED');
    const bad = new OpenAI({ apiKey: 'tg_notakey', baseURL: `${BASE}/api/v1/openai`, fetch: workerFetch, maxRetries: 0 });
    await expect(bad.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it('404 for an unknown model or another user’s agent; 409 for a stopped agent', async () => {
    const foreign = await createAgent(other.token);
    for (const model of ['gpt-4o', foreign.id]) {
      expectError(await api('/api/v1/openai/chat/completions', { token: key, json: { model, messages: [{ role: 'user', content: 'x' }] } }), 404, 'NOT_FOUND');
    }
    await expect(client.chat.completions.create({ model: foreign.id, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404 });
    const stopped = await createAgent(owner.token);
    await api(`/api/v1/agents/${stopped.id}/stop`, { token: owner.token, method: 'POST' });
    expectError(await api('/api/v1/openai/chat/completions', { token: key, json: { model: stopped.id, messages: [{ role: 'user', content: 'x' }] } }), 409, 'CONFLICT');
  });

  it('422 for invalid bodies, naming the field', async () => {
    const agent = await createAgent(owner.token);
    const cases: Array<[unknown, string]> = [
      [{ model: agent.id, messages: [] }, 'body.messages'],
      [{ messages: [{ role: 'user', content: 'x' }] }, 'body.model'],
      [{ model: agent.id, messages: [{ role: 'robot', content: 'x' }] }, 'body.messages.0.role'],
      [{ model: agent.id, messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }] }, 'body.messages.1.role'],
      [{ model: agent.id, messages: [{ role: 'user', content: 'x' }], n: 2 }, 'body.n'],
    ];
    for (const [json, field] of cases) {
      const err = expectError(await api('/api/v1/openai/chat/completions', { token: key, json }), 422, 'VALIDATION_ERROR');
      expect(err.message).toContain(field);
    }
  });

  it('is in the OpenAPI document', async () => {
    const doc = await api('/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/openai/models', '/api/v1/openai/chat/completions']));
  });
});
