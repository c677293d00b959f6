import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { trimToBudget } from '../../src/engine/agent/context';
import { runAgentTurn, type AgentEvent } from '../../src/engine/agent/loop';
import type { ChatMessage } from '../../src/engine/llm/types';
import { nameMatchRouter, runDebate, runGraph, runRoute, runSequential, type RunAgent } from '../../src/engine/orchestration';

const target = { provider: 'mock', model_name: 'mock-1' };
const meta = { user_id: 'u1', source: 'test' };
const base = { env, target, meta, history: [] as ChatMessage[], tools: [], iterationLimit: 5 };

describe('agent turn', () => {
  it('answers without tools and reports usage', async () => {
    const r = await runAgentTurn({ ...base, message: 'hi', executeTool: async () => ({ output: null, duration_ms: 0 }) });
    expect(r.reply).toBe('echo: hi');
    expect(r.iterations).toBe(1);
    expect(r.token_usage.total_tokens).toBeGreaterThan(0);
    expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('runs tool calls, feeds results back and emits events in order', async () => {
    const events: AgentEvent[] = [];
    const r = await runAgentTurn({
      ...base,
      stream: true,
      tools: [{ name: 'adder', description: 'adds', parameters: { type: 'object' } }],
      message: '/tool adder {"a":1,"b":2}',
      executeTool: async (call) => {
        const { a, b } = JSON.parse(call.arguments);
        return { output: { sum: a + b }, duration_ms: 1 };
      },
      onEvent: (e) => void events.push(e),
    });
    expect(r.reply).toBe('tool adder returned: {"sum":3}');
    expect(r.iterations).toBe(2);
    expect(r.tool_calls).toEqual([{ id: expect.any(String), name: 'adder', arguments: { a: 1, b: 2 }, output: { sum: 3 }, duration_ms: 1 }]);
    expect(events.map((e) => e.type)).toEqual(['tool_call', 'tool_result', ...Array(events.length - 2).fill('token')]);
    expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
  });

  it('passes tool errors to the model instead of failing', async () => {
    const r = await runAgentTurn({ ...base, message: '/tool broken {}', executeTool: async () => ({ output: null, error: 'boom', duration_ms: 0 }) });
    expect(r.reply).toBe('tool broken returned: {"error":"boom"}');
  });

  it('stops at the iteration limit', async () => {
    const r = await runAgentTurn({ ...base, iterationLimit: 1, message: '/tool t {}', executeTool: async () => ({ output: 1, duration_ms: 0 }) });
    expect(r.finish_reason).toBe('iteration_limit');
    expect(r.iterations).toBe(1);
    expect(r.tool_calls).toHaveLength(1);
  });

  it('restores history for the model', async () => {
    const history: ChatMessage[] = [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'echo: first' },
    ];
    const r = await runAgentTurn({ ...base, history, message: '/history', executeTool: async () => ({ output: null, duration_ms: 0 }) });
    expect(r.reply).toBe('history: first');
  });
});

describe('context trimming', () => {
  it('drops the oldest turns first and keeps the system prompt', () => {
    const system: ChatMessage[] = [{ role: 'system', content: 'sys' }];
    const history: ChatMessage[] = [];
    for (let i = 0; i < 50; i++) history.push({ role: 'user', content: `question ${i} ${'x'.repeat(200)}` }, { role: 'assistant', content: `answer ${i}` });
    const kept = trimToBudget(system, history, 500);
    expect(kept[0]).toEqual(system[0]);
    expect(kept[1].role).toBe('user');
    expect(kept.at(-1)!.content).toBe('answer 49');
    expect(kept.length).toBeLessThan(history.length);
    expect(kept.some((m) => m.content?.startsWith('question 0 '))).toBe(false);
  });

  it('never keeps a tool result without its call', () => {
    const history: ChatMessage[] = [
      { role: 'user', content: 'u'.repeat(400) },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', name: 't', arguments: '{}' }] },
      { role: 'tool', content: 'r'.repeat(400), tool_call_id: 'c1' },
      { role: 'assistant', content: 'done' },
      { role: 'user', content: 'next' },
    ];
    const kept = trimToBudget([], history, 50);
    expect(kept).toEqual([{ role: 'user', content: 'next' }]);
  });
});

const agents = [
  { id: 'a1', name: 'Writer' },
  { id: 'a2', name: 'Reviewer' },
];
const echoRun: RunAgent = async (_agent, input) => ({ output: `echo: ${input}`, token_usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });

describe('orchestration', () => {
  it('sequential chains outputs', async () => {
    const r = await runSequential(agents, 'hello', echoRun);
    expect(r.output).toBe('echo: echo: hello');
    expect(r.steps.map((s) => [s.agent_name, s.input])).toEqual([['Writer', 'hello'], ['Reviewer', 'echo: hello']]);
    expect(r.token_usage.total_tokens).toBe(4);
  });

  it('route picks the named agent, else the first', async () => {
    const named = await runRoute(agents, 'please ask the reviewer', echoRun, nameMatchRouter);
    expect(named.routed_to?.agent_id).toBe('a2');
    expect(named.steps).toHaveLength(1);
    const unnamed = await runRoute(agents, 'anything', echoRun, nameMatchRouter);
    expect(unnamed.routed_to?.agent_id).toBe('a1');
  });

  it('debate runs rounds where agents see each other, then summarises', async () => {
    const r = await runDebate(agents, 'tabs or spaces?', 2, echoRun);
    expect(r.steps.filter((s) => s.role === 'answer')).toHaveLength(4);
    expect(r.steps[1].input).toContain('[Writer, round 1] echo: tabs or spaces?');
    expect(r.steps.at(-1)!.role).toBe('summary');
    expect(r.output).toBe(r.steps.at(-1)!.output);
  });

  it('graph runs independent branches concurrently and merges predecessors', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const slowRun: RunAgent = async (agent, input) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return { output: `${agent.name}(${input})`, token_usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } };
    };
    const r = await runGraph(
      [
        { id: 'start', agent: { id: 'a', name: 'A' } },
        { id: 'left', agent: { id: 'b', name: 'B' } },
        { id: 'right', agent: { id: 'c', name: 'C' } },
        { id: 'join', agent: { id: 'd', name: 'D' } },
      ],
      [
        { source: 'start', target: 'left' },
        { source: 'start', target: 'right' },
        { source: 'left', target: 'join' },
        { source: 'right', target: 'join' },
      ],
      'm',
      slowRun,
    );
    expect(maxInFlight).toBe(2);
    expect(r.output).toBe('D([left] B(A(m))\n\n[right] C(A(m)))');
  });

  it('graph refuses cycles and unknown nodes with 422', async () => {
    const nodes = [
      { id: 'x', agent: agents[0] },
      { id: 'y', agent: agents[1] },
    ];
    await expect(runGraph(nodes, [{ source: 'x', target: 'y' }, { source: 'y', target: 'x' }], 'm', echoRun)).rejects.toMatchObject({ status: 422, code: 'VALIDATION_ERROR' });
    await expect(runGraph(nodes, [{ source: 'x', target: 'z' }], 'm', echoRun)).rejects.toMatchObject({ status: 422 });
  });
});

describe('model router helpers', () => {
  it('takes the JSON object out of a model answer', async () => {
    const { extractJsonObject } = await import('../../src/engine/orchestration/router');
    expect(extractJsonObject('Sure! ```json\n{"agent_id":"a1","reason":"fits"}\n```')).toEqual({ agent_id: 'a1', reason: 'fits' });
    expect(extractJsonObject('no json here')).toBeNull();
    expect(extractJsonObject('{broken')).toBeNull();
  });

  it('falls back to the name match when the model gives no usable choice', async () => {
    const { modelRouter } = await import('../../src/engine/orchestration/router');
    const route = modelRouter(env, { provider: 'mock', model_name: 'mock-1' }, { user_id: 'u1', source: 'router' });
    const agents = [
      { id: 'a', name: 'Alpha' },
      { id: 'b', name: 'Beta' },
    ];
    const picked = await route(agents, 'ask beta');
    expect(picked.agent.id).toBe('b');
    expect(picked.reason).toContain('no usable choice');
    expect((await route([agents[0]], 'anything')).agent.id).toBe('a');
  });
});
