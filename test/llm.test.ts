import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { complete, defaultTarget, streamComplete } from '../src/engine/llm/gateway';
import { LlmError } from '../src/engine/llm/errors';
import type { ChatMessage, StreamEvent } from '../src/engine/llm/types';

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
