import { describe, expect, it } from 'vitest';
import { findCycle, linePlan, MAX_PLAN_TASKS, parsePlan, PlanError } from '../../src/engine/goals/plan';
import { goalOutcome, progressOf } from '../../src/engine/goals/scheduler';
import { runSwarm } from '../../src/engine/orchestration/swarm';

describe('plans', () => {
  it('finds cycles, including long chains, and none in a DAG', () => {
    expect(findCycle(['a', 'b', 'c'], [['a', 'b'], ['b', 'c']])).toBeNull();
    expect(findCycle(['a', 'b', 'c'], [['a', 'b'], ['b', 'c'], ['c', 'a']])).toEqual(['a', 'b', 'c', 'a']);
    const n = 5000;
    const ids = Array.from({ length: n }, (_, i) => `t${i}`);
    const chain = ids.slice(1).map((id, i) => [id, ids[i]] as [string, string]);
    expect(findCycle(ids, chain)).toBeNull();
    expect(findCycle(ids, [...chain, ['t0', `t${n - 1}`]])).toHaveLength(n + 1);
  });

  it('validates model plans: shape, references, cycles, size; unknown agents are dropped', () => {
    const ok = parsePlan('Here you go: {"tasks":[{"key":1,"title":"A"},{"key":2,"title":"B","depends_on":[1],"agent_id":"x"}]}', ['y']);
    expect(ok.map((t) => [t.key, t.depends_on, t.agent_id])).toEqual([
      ['1', [], null],
      ['2', ['1'], null],
    ]);
    const bad = (text: string, msg: RegExp) => expect(() => parsePlan(text, [])).toThrow(msg);
    bad('no json', /no JSON/);
    bad('{"tasks": 3}', /shape/);
    bad('{"tasks": []}', /no tasks/);
    bad('{"tasks":[{"key":"a","title":"A","depends_on":["zz"]}]}', /unknown task "zz"/);
    bad('{"tasks":[{"key":"a","title":"A"},{"key":"a","title":"B"}]}', /used twice/);
    bad('{"tasks":[{"key":"a","title":"A","parent":"b"},{"key":"b","title":"B","parent":"a"}]}', /parent tree has a cycle/);
    const many = { tasks: Array.from({ length: MAX_PLAN_TASKS + 1 }, (_, i) => ({ key: `k${i}`, title: 'T' })) };
    bad(JSON.stringify(many), /at most/);
    // Replanning may depend on completed tasks by id, and may leave nothing to do.
    expect(parsePlan('{"tasks":[{"key":"a","title":"A","depends_on":["done-1"]}]}', [], ['done-1'])[0].depends_on).toEqual(['done-1']);
    expect(parsePlan('{"tasks":[]}', [], [], true)).toEqual([]);
  });

  it('the mock rule: lines, chained, long lines keep their text in the description', () => {
    const long = 'x'.repeat(300);
    const plan = linePlan(`a\n\n${long}`, []);
    expect(plan.map((t) => [t.title.length, t.description.length, t.depends_on])).toEqual([
      [1, 0, []],
      [200, 300, ['t1']],
    ]);
    expect(() => linePlan(Array(MAX_PLAN_TASKS + 1).fill('l').join('\n'), [])).toThrow(PlanError);
  });

  it('goal outcome and progress', () => {
    expect(goalOutcome({ completed: 3 })).toBe('completed');
    expect(goalOutcome({ completed: 2, failed: 1 })).toBe('failed');
    expect(goalOutcome({ completed: 2, rejected: 1 })).toBe('open');
    expect(goalOutcome({})).toBe('open');
    expect(progressOf(1, 3)).toBe(33.3);
    expect(progressOf(0, 0)).toBe(0);
  });
});

describe('swarm engine', () => {
  const agents = [
    { id: 'lead', name: 'lead' },
    { id: 'w', name: 'w' },
  ];
  const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };

  it('uses a JSON plan from the coordinator and revises while rounds remain', async () => {
    let reviews = 0;
    const result = await runSwarm('task', agents, 3, async (agent, input, role) => {
      if (role === 'coordinator') return { output: '{"assignments":[{"agent_id":"w","subtask":"do part"}]}', token_usage: usage };
      if (role === 'reviewer') return { output: ++reviews === 1 ? 'REVISE: more detail' : 'final answer', token_usage: usage };
      return { output: `did: ${input}`, token_usage: usage };
    });
    expect(result.assignments).toEqual([{ agent_id: 'w', subtask: 'do part' }]);
    expect(result.rounds).toBe(2);
    expect(result.result).toBe('final answer');
    const work = result.steps.filter((s) => s.role === 'worker').map((s) => s.input);
    expect(work).toEqual(['do part', 'do part\n\nThe reviewer asks you to revise: more detail']);
    expect(result.token_usage.total_tokens).toBe(2 * result.steps.length);
  });

  it('stops at max_rounds even when the reviewer still asks for revisions', async () => {
    const result = await runSwarm('task', agents, 2, async (_a, _i, role) => ({ output: role === 'reviewer' ? 'REVISE: again' : 'x', token_usage: usage }));
    expect(result.rounds).toBe(2);
    expect(result.result).toBe('again');
  });
});
