import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, createUser, expectError } from '../../support/helpers';
import { chain, createWorkflow, run } from '../../support/wf-helpers';

const FAKE = env.FAKE_BASE_URL;
/** The fake server's record of a key: hits, and the most of them answered at once. */
const hitCount = async (k: string) => (await fetch(`${FAKE}/wf/count?key=${k}`)).json();
const key = () => crypto.randomUUID().slice(0, 8);
const node = (body: any, id: string) => body.nodes.find((n: any) => n.node_id === id);

describe('node types in runs', () => {
  it('condition: typed comparisons pick if / elif / else; untaken branches are skipped', async () => {
    const u = await createUser();
    const graph = {
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'route',
          type: 'condition',
          config: {
            cases: [
              { id: 'big', conditions: [{ variable: '{{inputs.n}}', operator: 'gt', value: 100 }] },
              { id: 'named', logical_operator: 'or', conditions: [{ variable: 'inputs.tag', operator: 'in', value: ['vip', 'gold'] }, { variable: 'inputs.n', operator: 'eq', value: '7' }] },
            ],
          },
        },
        { id: 'a', type: 'template', config: { template: 'big' } },
        { id: 'b', type: 'template', config: { template: 'named' } },
        { id: 'c', type: 'template', config: { template: 'else' } },
        { id: 'pick', type: 'variable_aggregator', config: { variables: ['a.text', 'b.text', 'c.text'] } },
        { id: 'end', type: 'end', config: { outputs: { result: '{{pick.output}}', matched: '{{route.matched}}' } } },
      ],
      edges: [
        { source: 'start', target: 'route' },
        { source: 'route', target: 'a', source_handle: 'big' },
        { source: 'route', target: 'b', source_handle: 'named' },
        { source: 'route', target: 'c', source_handle: 'else' },
        { source: 'a', target: 'pick' },
        { source: 'b', target: 'pick' },
        { source: 'c', target: 'pick' },
        { source: 'pick', target: 'end' },
      ],
    };
    const wf = await createWorkflow(u.token, graph);
    const go = async (inputs: any) => (await api(`/api/v1/workflows/${wf.id}/execute`, { token: u.token, json: { inputs } })).body;
    expect((await go({ n: '150' })).outputs).toEqual({ result: 'big', matched: 'big' });
    expect((await go({ n: 7 })).outputs).toEqual({ result: 'named', matched: 'named' });
    expect((await go({ n: 1, tag: 'gold' })).outputs).toEqual({ result: 'named', matched: 'named' });
    const other = await go({ n: 1, tag: 'x' });
    expect(other.outputs).toEqual({ result: 'else', matched: 'else' });
    expect(node(other, 'a').status).toBe('skipped');
    expect(node(other, 'b').status).toBe('skipped');
    expect(node(other, 'route').branch).toBe('else');
  });

  it('parallel fan-out runs independent branches concurrently and joins them', async () => {
    const u = await createUser();
    const k = key();
    const branches = ['p1', 'p2', 'p3', 'p4'].map((id) => ({ id, type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}&ms=300` } }));
    const graph = {
      nodes: [{ id: 'start', type: 'start' }, ...branches, { id: 'join', type: 'template', config: { template: '{{p1.json.key}}-{{p4.status}}' } }, { id: 'end', type: 'end', config: { outputs: { r: '{{join.text}}' } } }],
      edges: [...branches.map((b) => ({ source: 'start', target: b.id })), ...branches.map((b) => ({ source: b.id, target: 'join' })), { source: 'join', target: 'end' }],
    };
    const { body } = await run(u.token, graph);
    expect(body.status, JSON.stringify(body.error)).toBe('succeeded');
    expect(body.outputs).toEqual({ r: `${k}-200` });
    // The server saw the four calls in flight together (one after another it would see one at a time).
    expect(await hitCount(k)).toEqual({ key: k, count: 4, max_in_flight: 4 });
  });

  it('http_request goes through the SSRF guard', async () => {
    const u = await createUser();
    const { body } = await run(u.token, chain([{ id: 'h', type: 'http_request', config: { url: 'http://169.254.169.254/latest/meta-data' } }]));
    expect(body.status).toBe('failed');
    expect(body.error).toMatchObject({ code: 'SSRF_BLOCKED', node_id: 'h' });
  });

  it('retries with node_retry, then fails the run; error strategies: default value, error branch', async () => {
    const u = await createUser();
    const failing = { id: 'ask', type: 'llm', config: { prompt: '/error' }, retry: { max_retries: 2, backoff_ms: 10, backoff: 'exponential' } };
    const failed = (await run(u.token, chain([failing], { t: '{{ask.text}}' }))).body;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'LLM_ERROR', node_id: 'ask' });
    expect(node(failed, 'ask')).toMatchObject({ status: 'failed', attempts: 3 });
    expect(node(failed, 'end')).toBeUndefined();
    const logs = await api(`/api/v1/execution-logs?execution_id=${failed.id}&level=warn`, { token: u.token });
    expect(logs.body.items.filter((l: any) => /retrying/.test(l.message))).toHaveLength(2);

    const dflt = (await run(u.token, chain([{ ...failing, retry: undefined, error_strategy: 'default_value', default_output: { text: 'fallback' } }], { t: '{{ask.text}}' }))).body;
    expect(dflt.status).toBe('succeeded');
    expect(dflt.outputs).toEqual({ t: 'fallback' });
    expect(node(dflt, 'ask').error).toMatchObject({ code: 'LLM_ERROR' });

    const branch = {
      nodes: [
        { id: 'start', type: 'start' },
        { ...failing, retry: undefined, error_strategy: 'error_branch' },
        { id: 'ok', type: 'template', config: { template: 'fine' } },
        { id: 'oops', type: 'template', config: { template: 'handled {{ask.error.code}}' } },
        { id: 'end', type: 'end', config: { outputs: { r: '{{oops.text}}' } } },
      ],
      edges: [
        { source: 'start', target: 'ask' },
        { source: 'ask', target: 'ok' },
        { source: 'ask', target: 'oops', source_handle: 'error' },
        { source: 'ok', target: 'end' },
        { source: 'oops', target: 'end' },
      ],
    };
    const handled = (await run(u.token, branch)).body;
    expect(handled.status).toBe('succeeded');
    expect(handled.outputs).toEqual({ r: 'handled LLM_ERROR' });
    expect(node(handled, 'ask')).toMatchObject({ status: 'failed', branch: 'error' });
    expect(node(handled, 'ok').status).toBe('skipped');
  });

  it('per-node timeout', async () => {
    const u = await createUser();
    const { body } = await run(u.token, chain([{ id: 'slow', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${key()}&ms=2000` }, timeout_ms: 200 }]));
    expect(body.status).toBe('failed');
    expect(body.error).toMatchObject({ code: 'NODE_TIMEOUT', node_id: 'slow' });
  });

  it('llm, parameter extractor, classifier, variable assigner, sys variables and token usage', async () => {
    const u = await createUser();
    const graph = chain(
      [
        { id: 'assign', type: 'variable_assigner', config: { assignments: [{ name: 'who', value: '{{inputs.who}}' }, { name: 'n', value: 3 }] } },
        { id: 'ask', type: 'llm', config: { system_prompt: 'be brief', prompt: 'hi {{assign.who}}' } },
        { id: 'ext', type: 'parameter_extractor', config: { query: 'city: Paris; days = 4', parameters: [{ name: 'city', required: true }, { name: 'days', type: 'number' }, { name: 'pets', type: 'boolean' }] } },
        { id: 'who', type: 'template', config: { template: '{{sys.user_id}}|{{sys.execution_id}}|{{vars.n}}' } },
      ],
      { text: '{{ask.text}}', city: '{{ext.city}}', days: '{{ext.days}}', pets: '{{ext.pets}}', who: '{{who.text}}' },
    );
    const { body } = await run(u.token, graph, { who: 'Ann' });
    expect(body.status, JSON.stringify(body.error)).toBe('succeeded');
    expect(body.outputs).toEqual({ text: 'echo: hi Ann', city: 'Paris', days: 4, pets: null, who: `${u.id}|${body.id}|3` });
    expect(body.token_usage.total_tokens).toBeGreaterThan(0);
    expect(body.token_usage.total_tokens).toBe(body.token_usage.prompt_tokens + body.token_usage.completion_tokens);
    const missing = (await run(u.token, chain([{ id: 'ext', type: 'parameter_extractor', config: { query: 'nothing here', parameters: [{ name: 'city', required: true }] } }]))).body;
    expect(missing.error).toMatchObject({ code: 'EXTRACTION_FAILED' });
  });

  it('code node runs user JavaScript in the sandbox; an endless loop is stopped', async () => {
    const u = await createUser();
    const ok = (await run(u.token, chain([{ id: 'js', type: 'code', config: { code: 'function main(a) { console.log("hi", a.n); return { double: a.n * 2, items: [a.s] }; }', inputs: { n: '{{inputs.n}}', s: 'x{{inputs.n}}' } } }], { d: '{{js.double}}', all: '{{js.result}}' }), { n: 21 })).body;
    expect(ok.status, JSON.stringify(ok.error)).toBe('succeeded');
    expect(ok.outputs).toEqual({ d: 42, all: { double: 42, items: ['x21'] } });
    expect(node(ok, 'js').outputs.logs).toEqual(['log: hi 21']);
    const loop = (await run(u.token, chain([{ id: 'js', type: 'code', config: { code: 'while (true) {}', timeout_ms: 200 } }]))).body;
    expect(loop.status).toBe('failed');
    expect(loop.error.node_id).toBe('js');
  });

  it('tool node: runs a registry tool; an unknown tool fails the node with NOT_FOUND', async () => {
    const u = await createUser();
    const { body } = await run(u.token, chain([{ id: 't', type: 'tool', config: { tool: 'no_such_tool', arguments: { q: '{{inputs.q}}' } } }]), { q: 'x' });
    expect(body.status).toBe('failed');
    expect(body.error).toMatchObject({ code: 'NOT_FOUND', node_id: 't' });
    expect(node(body, 't').inputs).toEqual({ tool: 'no_such_tool', arguments: { q: 'x' } });

    const ok = (await run(u.token, chain([{ id: 'b64', type: 'tool', config: { tool: 'base64_encode', arguments: { text: '{{inputs.q}}' } } }], { r: '{{b64.result.result}}' }), { q: 'hello' })).body;
    expect(ok.status, JSON.stringify(ok.error)).toBe('succeeded');
    expect(ok.outputs).toEqual({ r: 'aGVsbG8=' });
    const chainRes = await api(`/api/v1/execution-logs/executions/${ok.id}/call-chain`, { token: u.token });
    expect(chainRes.body.tree.children.find((c: any) => c.id === 'b64').children[0]).toMatchObject({ type: 'tool', name: 'base64_encode', status: 'succeeded' });
  });

  it('iteration with a concurrency limit, loop until a condition, sub-workflow', async () => {
    const u = await createUser();
    const k = key();
    const body = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'h', type: 'http_request', config: { url: `${FAKE}/wf/hit?key=${k}&ms=300` } },
        { id: 'end', type: 'end', config: { outputs: { item: '{{inputs.item}}', count: '{{h.json.count}}' } } },
      ],
      edges: [{ source: 'start', target: 'h' }, { source: 'h', target: 'end' }],
    };
    const it1 = (await run(u.token, chain([{ id: 'each', type: 'iteration', config: { items: '{{inputs.list}}', concurrency: 2, body } }], { r: '{{each.results}}' }), { list: [1, 2, 3, 4] })).body;
    expect(it1.status, JSON.stringify(it1.error)).toBe('succeeded');
    expect(it1.outputs.r.map((r: any) => r.item)).toEqual([1, 2, 3, 4]);
    // Two at a time: never more (the limit), and not one after another.
    expect(await hitCount(k)).toEqual({ key: k, count: 4, max_in_flight: 2 });

    const loopBody = {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'next', type: 'template', config: { template: '{{inputs.state.acc}}x' } },
        { id: 'end', type: 'end', config: { outputs: { acc: '{{next.text}}' } } },
      ],
      edges: [{ source: 'start', target: 'next' }, { source: 'next', target: 'end' }],
    };
    const loop = (await run(u.token, chain([{ id: 'l', type: 'loop', config: { body: loopBody, initial: { acc: '' }, max_iterations: 10, until: { conditions: [{ variable: 'state.acc', operator: 'eq', value: 'xxx' }] } } }], { acc: '{{l.state.acc}}', n: '{{l.iterations}}', by: '{{l.stopped_by}}' }))).body;
    expect(loop.outputs).toEqual({ acc: 'xxx', n: 3, by: 'condition' });
    const capped = (await run(u.token, chain([{ id: 'l', type: 'loop', config: { body: loopBody, max_iterations: 2 } }], { n: '{{l.iterations}}', by: '{{l.stopped_by}}' }))).body;
    expect(capped.outputs).toEqual({ n: 2, by: 'max_iterations' });

    const child = await createWorkflow(u.token, chain([{ id: 'up', type: 'llm', config: { prompt: 'child {{inputs.x}}' } }], { said: '{{up.text}}' }), { inputs_schema: [{ name: 'x' }] });
    const parent = (await run(u.token, chain([{ id: 'sub', type: 'sub_workflow', config: { workflow_id: child.id, inputs: { x: '{{inputs.v}}' } } }], { r: '{{sub.said}}' }), { v: 42 })).body;
    expect(parent.outputs).toEqual({ r: 'echo: child 42' });
    const chainRes = await api(`/api/v1/execution-logs/executions/${parent.id}/call-chain`, { token: u.token });
    const subNode = chainRes.body.tree.children.find((c: any) => c.id === 'sub');
    expect(subNode.children[0]).toMatchObject({ type: 'workflow', name: child.id, status: 'succeeded' });
    expect(subNode.children[0].children[0]).toMatchObject({ type: 'llm', name: 'mock/mock-1', status: 'succeeded' });

    const other = await createUser();
    const stolen = (await run(other.token, chain([{ id: 'sub', type: 'sub_workflow', config: { workflow_id: child.id } }]))).body;
    expect(stolen.error).toMatchObject({ code: 'NOT_FOUND', node_id: 'sub' });
  });
});

describe('platform tools in tool nodes', () => {
  it('run_agent and run_workflow run what the principal may execute; another user’s is not found', async () => {
    const u = await createUser();
    const agent = await api('/api/v1/agents', { token: u.token, json: { name: 'Echo', model_config: { provider: 'mock', model_name: 'mock-1' } } });
    expect(agent.status, agent.text).toBe(201);
    const asked = (
      await run(u.token, chain([{ id: 'ask', type: 'tool', config: { tool: 'run_agent', arguments: { agent_id: agent.body.id, message: 'q: {{inputs.q}}' } } }], { r: '{{ask.result.reply}}', t: '{{ask.result.token_usage.total_tokens}}' }), { q: 'why' })
    ).body;
    expect(asked.status, JSON.stringify(asked.error)).toBe('succeeded');
    expect(asked.outputs.r).toBe('echo: q: why');
    expect(asked.outputs.t).toBeGreaterThan(0);

    const child = await createWorkflow(u.token, chain([{ id: 'up', type: 'template', config: { template: '<{{inputs.x}}>' } }], { said: '{{up.text}}' }), { inputs_schema: [{ name: 'x' }] });
    const parent = (await run(u.token, chain([{ id: 'wf', type: 'tool', config: { tool: 'run_workflow', arguments: { workflow_id: child.id, inputs: { x: '{{inputs.v}}' }, timeout_seconds: 10 } } }], { r: '{{wf.result.outputs.said}}', s: '{{wf.result.status}}' }), { v: '7' })).body;
    expect(parent.status, JSON.stringify(parent.error)).toBe('succeeded');
    expect(parent.outputs).toEqual({ r: '<7>', s: 'succeeded' });

    const other = await createUser();
    const stolenAgent = (await run(other.token, chain([{ id: 'ask', type: 'tool', config: { tool: 'run_agent', arguments: { agent_id: agent.body.id, message: 'x' } } }]))).body;
    expect(stolenAgent.error).toMatchObject({ code: 'NOT_FOUND', node_id: 'ask' });
    const stolenWorkflow = (await run(other.token, chain([{ id: 'wf', type: 'tool', config: { tool: 'run_workflow', arguments: { workflow_id: child.id } } }]))).body;
    expect(stolenWorkflow.error).toMatchObject({ code: 'NOT_FOUND', node_id: 'wf' });
  });

  it('a workflow running itself through run_workflow stops at the delegation depth limit', async () => {
    const u = await createUser();
    const wf = await createWorkflow(u.token, chain([]));
    const self = chain([{ id: 'again', type: 'tool', config: { tool: 'run_workflow', arguments: { workflow_id: wf.id } } }]);
    const put = await api(`/api/v1/workflows/${wf.id}`, { method: 'PUT', token: u.token, json: { graph: self } });
    expect(put.status, put.text).toBe(200);
    const res = await api(`/api/v1/workflows/${wf.id}/execute`, { token: u.token, json: { wait_ms: 60_000 } });
    expect(res.body.status, res.text).toBe('failed');
    expect(res.body.error).toMatchObject({ code: 'WORKFLOW_FAILED', node_id: 'again' });
    expect(res.body.error.message).toMatch(/MAX_DEPTH: run_workflow refused/);
    // The run and three nested ones, each started by the one above it; the fourth call was refused.
    const nested = await env.DB.prepare("SELECT status FROM executions WHERE workflow_id = ? AND trigger = 'tool'").bind(wf.id).all<{ status: string }>();
    expect(nested.results.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
  
    // Through an agent node: the agent's turn runs the workflow that runs the agent, ... until the limit.
    const loopWf = await createWorkflow(u.token, chain([]));
    const agent = await api('/api/v1/agents', { token: u.token, json: { name: 'Looper', include_tools: ['run_workflow'], model_config: { provider: 'mock', model_name: 'mock-1' } } });
    const graph = chain([{ id: 'a', type: 'agent', config: { agent_id: agent.body.id, prompt: `/tool run_workflow {"workflow_id":"${loopWf.id}"}` } }], { text: '{{a.text}}' });
    expect((await api(`/api/v1/workflows/${loopWf.id}`, { method: 'PUT', token: u.token, json: { graph } })).status).toBe(200);
    const looped = (await api(`/api/v1/workflows/${loopWf.id}/execute`, { token: u.token, json: { wait_ms: 60_000 } })).body;
    expect(looped.status, JSON.stringify(looped.error)).toBe('succeeded');
    expect(looped.outputs.text).toContain('MAX_DEPTH: run_workflow refused');
    const runs = await env.DB.prepare("SELECT count(*) AS n FROM executions WHERE workflow_id = ? AND trigger = 'tool'").bind(loopWf.id).first<{ n: number }>();
    expect(runs!.n).toBe(3);
  });
});

describe('list_operator', () => {
  const people = [
    { name: 'Ann', age: 31, team: 'red' },
    { name: 'Bob', age: 25, team: 'blue' },
    { name: 'Cid', team: 'red' },
    { name: 'Dee', age: 40, team: 'blue' },
    { name: 'Eve', age: 25, team: 'red' },
  ];
  const op = async (token: string, config: Record<string, unknown>, inputs: Record<string, unknown> = { list: people }) => {
    const res = await api('/api/v1/nodes/run', { token, json: { node: { id: 'l', type: 'list_operator', config: { items: '{{inputs.list}}', ...config } }, inputs } });
    expect(res.status, res.text).toBe(200);
    return res.body;
  };
  const names = (r: any) => r.outputs.result.map((p: any) => p.name);

  it('filters with the condition operators, dedupes, sorts, slices, and gives first/last/count', async () => {
    const u = await createUser();
    // filter: and / or, nested fields, values from variables.
    const adults = await op(u.token, { filter: { conditions: [{ field: 'age', operator: 'gte', value: '{{inputs.min}}' }, { field: 'team', operator: 'eq', value: 'red' }] } }, { list: people, min: 30 });
    expect(names(adults)).toEqual(['Ann']);
    const either = await op(u.token, { filter: { logical_operator: 'or', conditions: [{ field: 'name', operator: 'starts_with', value: 'D' }, { field: 'age', operator: 'is_empty' }] } });
    expect(names(either)).toEqual(['Cid', 'Dee']);
    const inList = await op(u.token, { filter: { conditions: [{ field: 'name', operator: 'in', value: ['Bob', 'Eve', 'Zed'] }] } });
    expect(names(inList)).toEqual(['Bob', 'Eve']);
    const nested = await op(u.token, { items: [{ m: { lang: 'zh' } }, { m: { lang: 'en' } }], filter: { conditions: [{ field: 'm.lang', operator: 'eq', value: 'zh' }] } }, {});
    expect(nested.outputs.result).toEqual([{ m: { lang: 'zh' } }]);
    // Items themselves (no field): scalars, from a JSON string.
    const scalars = await op(u.token, { items: '[3, 1, "x", 2, 3, 1]', filter: { conditions: [{ operator: 'matches', value: '^\\d+$' }] }, dedupe: {}, sort: { order: 'desc' } }, {});
    expect(scalars.outputs).toMatchObject({ result: [3, 2, 1], count: 3, total: 3, first: 3, last: 1 });

    // sort by a field, both ways; items without it go last; ties keep their order.
    expect(names(await op(u.token, { sort: { field: 'age' } }))).toEqual(['Bob', 'Eve', 'Ann', 'Dee', 'Cid']);
    expect(names(await op(u.token, { sort: { field: 'age', order: 'desc' } }))).toEqual(['Dee', 'Ann', 'Bob', 'Eve', 'Cid']);
    expect(names(await op(u.token, { sort: { field: 'name', order: 'desc' } }))).toEqual(['Eve', 'Dee', 'Cid', 'Bob', 'Ann']);

    // dedupe by a field keeps the first of each value; the whole item when no field is named.
    expect(names(await op(u.token, { dedupe: { field: 'team' } }))).toEqual(['Ann', 'Bob']);
    expect((await op(u.token, { items: [{ a: 1 }, { a: 1 }, { a: 2 }], dedupe: {} }, {})).outputs.result).toEqual([{ a: 1 }, { a: 2 }]);

    // slice: offset and limit, after the other steps; total counts before slicing.
    const page = await op(u.token, { sort: { field: 'name' }, offset: 1, limit: 2 });
    expect(page.outputs).toMatchObject({ count: 2, total: 5, first: { name: 'Bob' }, last: { name: 'Cid' } });
    expect(names(page)).toEqual(['Bob', 'Cid']);
    const tail = await op(u.token, { offset: 4 });
    expect(tail.outputs).toMatchObject({ count: 1, first: { name: 'Eve' }, last: { name: 'Eve' } });
    const none = await op(u.token, { filter: { conditions: [{ field: 'age', operator: 'gt', value: 100 }] } });
    expect(none.outputs).toEqual({ result: [], count: 0, total: 0, first: null, last: null });
  });

  it('runs in a workflow (validation accepts it), and refuses what is not a list or not a valid config', async () => {
    const u = await createUser();
    const graph = chain(
      [{ id: 'top', type: 'list_operator', config: { items: '{{inputs.list}}', filter: { conditions: [{ field: 'age', operator: 'is_not_empty' }] }, sort: { field: 'age', order: 'desc' }, limit: 2 } }],
      { best: '{{top.first.name}}', n: '{{top.count}}', names: '{{top.result}}' },
    );
    expect((await api('/api/v1/workflows/validate', { token: u.token, json: { graph } })).body).toMatchObject({ valid: true });
    const ran = (await run(u.token, graph, { list: people })).body;
    expect(ran.status, JSON.stringify(ran.error)).toBe('succeeded');
    expect(ran.outputs).toMatchObject({ best: 'Dee', n: 2 });
    expect(ran.outputs.names.map((p: any) => p.name)).toEqual(['Dee', 'Ann']);

    const notList = await op(u.token, {}, { list: { a: 1 } });
    expect(notList).toMatchObject({ status: 'failed', error: { code: 'INVALID_INPUT' } });
    const badOp = await api('/api/v1/nodes/run', { token: u.token, json: { node: { id: 'l', type: 'list_operator', config: { items: [], filter: { conditions: [{ field: 'a', operator: 'approx' }] } } } } });
    expect(expectError(badOp, 422).message).toContain('config.filter.conditions.0.operator');
    const invalid = await api('/api/v1/workflows/validate', { token: u.token, json: { graph: chain([{ id: 'l', type: 'list_operator', config: { items: [], limit: -1 } }]) } });
    expect(invalid.body.valid).toBe(false);
    expect(JSON.stringify(invalid.body.errors)).toContain('limit');
  });
});

describe('POST /nodes/run', () => {
  it('runs one node alone with inputs and upstream variables', async () => {
    const u = await createUser();
    const res = await api('/api/v1/nodes/run', {
      token: u.token,
      json: { node: { id: 'ask', type: 'llm', config: { prompt: '{{inputs.q}} / {{search.top}}' } }, inputs: { q: 'why' }, variables: { search: { top: 'because' } } },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ node_id: 'ask', status: 'succeeded', outputs: { text: 'echo: why / because' }, attempts: 1 });
    expect(res.body.token_usage.total_tokens).toBeGreaterThan(0);
    expect(res.body.calls[0]).toMatchObject({ kind: 'llm', status: 'succeeded' });
    expect(res.body.events.map((e: any) => e.type)).toEqual(['node_started', 'node_finished']);

    const cond = await api('/api/v1/nodes/run', { token: u.token, json: { node: { id: 'c', type: 'condition', config: { cases: [{ id: 'yes', conditions: [{ variable: 'inputs.x', operator: 'is_true' }] }] } }, inputs: { x: 'yes' } } });
    expect(cond.body).toMatchObject({ status: 'succeeded', branch: 'yes' });
    const retried = await api('/api/v1/nodes/run', { token: u.token, json: { node: { id: 'e', type: 'llm', config: { prompt: '/error' }, retry: { max_retries: 1 } } } });
    expect(retried.body).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'LLM_ERROR' } });
    expect(retried.body.events.map((e: any) => e.type)).toContain('node_retry');
  });

  it('422 for unknown types and invalid configs; 401', async () => {
    const u = await createUser();
    expectError(await api('/api/v1/nodes/run', { token: u.token, json: { node: { id: 'x', type: 'warp' } } }), 422);
    expect(expectError(await api('/api/v1/nodes/run', { token: u.token, json: { node: { id: 'x', type: 'llm', config: {} } } }), 422).message).toContain('config.prompt');
    expectError(await api('/api/v1/nodes/run', { token: u.token, json: {} }), 422);
    expectError(await api('/api/v1/nodes/run', { json: { node: { id: 'x', type: 'template', config: { template: 'a' } } } }), 401);
  });
});

describe('/node-templates', () => {
  it('lists builtins and mine, CRUD with config checks, owner scoping, read-only builtins', async () => {
    const u = await createUser();
    const other = await createUser();
    const T = '/api/v1/node-templates';
    const builtins = await api(`${T}?source=builtin&page_size=100`, { token: u.token });
    expect(builtins.body.total).toBeGreaterThanOrEqual(6);
    expect(builtins.body.items.every((t: any) => t.builtin && t.id.startsWith('builtin:'))).toBe(true);

    const created = await api(T, { token: u.token, json: { name: 'shout', node_type: 'template', config: { template: '{{inputs.x}}!' } } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ name: 'shout', builtin: false, owner_id: u.id, config: { template: '{{inputs.x}}!' } });
    const id = created.body.id;
    const mine = await api(`${T}?source=mine`, { token: u.token });
    expect(mine.body.items.map((t: any) => t.id)).toEqual([id]);
    const all = await api(`${T}?page_size=100`, { token: u.token });
    expect(all.body.total).toBe(builtins.body.total + 1);
    expect((await api(`${T}?node_type=template&source=mine`, { token: u.token })).body.total).toBe(1);
    expect((await api(`${T}?node_type=llm&source=mine`, { token: u.token })).body.total).toBe(0);

    const put = await api(`${T}/${id}`, { method: 'PUT', token: u.token, json: { name: 'louder', config: { template: '{{inputs.x}}!!' } } });
    expect(put.body).toMatchObject({ name: 'louder', config: { template: '{{inputs.x}}!!' } });
    expectError(await api(`${T}/${id}`, { method: 'PUT', token: u.token, json: { config: { nope: 1 } } }), 422);
    expectError(await api(T, { token: u.token, json: { name: 'x', node_type: 'llm', config: {} } }), 422);
    expectError(await api(T, { token: u.token, json: { name: 'x', node_type: 'warp' } }), 422);
    expectError(await api(`${T}/${id}`, { token: other.token }), 404);
    expectError(await api(`${T}/${id}`, { method: 'PUT', token: other.token, json: { name: 'y' } }), 404);
    expectError(await api(`${T}/${id}`, { method: 'DELETE', token: other.token }), 404);
    expect((await api(`${T}/builtin:summarize`, { token: other.token })).body.node_type).toBe('llm');
    expectError(await api(`${T}/builtin:summarize`, { method: 'PUT', token: u.token, json: { name: 'mine' } }), 403, 'FORBIDDEN');
    expectError(await api(`${T}/builtin:summarize`, { method: 'DELETE', token: u.token }), 403);
    expectError(await api(`${T}/builtin:nope`, { token: u.token }), 404);
    expect((await api(`${T}/${id}`, { method: 'DELETE', token: u.token })).status).toBe(204);
    expectError(await api(`${T}/${id}`, { token: u.token }), 404);
    expectError(await api(T), 401);
    expectError(await api(`${T}/node-types`), 401);

    const types = await api(`${T}/node-types`, { token: u.token });
    const names = types.body.items.map((t: any) => t.type);
    for (const t of ['start', 'end', 'answer', 'llm', 'code', 'condition', 'question_classifier', 'parameter_extractor', 'http_request', 'tool', 'template', 'variable_assigner', 'variable_aggregator', 'iteration', 'loop', 'human_approval', 'sub_workflow', 'delay', 'list_operator', 'knowledge_retrieval', 'document_extractor']) {
      expect(names).toContain(t);
    }
    expect(types.body.items.find((t: any) => t.type === 'llm').config_schema.properties.prompt).toBeDefined();
    const listOp = types.body.items.find((t: any) => t.type === 'list_operator');
    expect(Object.keys(listOp.config_schema.properties)).toEqual(['items', 'filter', 'dedupe', 'sort', 'offset', 'limit']);
    expect(listOp.config_schema.properties.filter.properties.conditions.items.properties.operator.enum).toContain('not_contains');
    // Knowledge nodes, registered by the knowledge-bases module.
    const retrieval = types.body.items.find((t: any) => t.type === 'knowledge_retrieval');
    expect(Object.keys(retrieval.config_schema.properties).sort()).toEqual(['kb_ids', 'mode', 'query', 'score_threshold', 'top_k']);
    expect(retrieval.config_schema.required).toEqual(expect.arrayContaining(['kb_ids', 'query']));
    expect(retrieval.config_schema.properties.mode.enum).toEqual(['semantic', 'full-text', 'hybrid']);
    const extractor = types.body.items.find((t: any) => t.type === 'document_extractor');
    expect(Object.keys(extractor.config_schema.properties).sort()).toEqual(['document_id', 'max_chars', 'max_pages', 'upload_id']);
    expect(extractor.config_schema.properties.max_chars).toMatchObject({ type: 'integer', maximum: 1_000_000 });
    // Their saved configurations are checked like any other.
    const saved = await api(T, { token: u.token, json: { name: 'search docs', node_type: 'knowledge_retrieval', config: { kb_ids: ['{{inputs.kb}}'], query: '{{inputs.q}}', top_k: 3 } } });
    expect(saved.status, saved.text).toBe(201);
    expectError(await api(T, { token: u.token, json: { name: 'x', node_type: 'knowledge_retrieval', config: { query: 'q' } } }), 422);
    expectError(await api(T, { token: u.token, json: { name: 'x', node_type: 'document_extractor', config: { max_chars: 10 } } }), 422);
  });
});
