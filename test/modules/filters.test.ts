import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { logApp } from '../../src/modules/governance/system-logs/log';
import { api, createUser } from '../support/helpers';
import { createAgent, createGoal, eventually, type User } from '../support/goal-helpers';
import { chain, run } from '../support/wf-helpers';

/**
 * Every text filter of every list route, at its documented length limit and with LIKE's special
 * characters: D1 refuses LIKE patterns over 50 bytes (17 Chinese characters), and `%` / `_` must
 * match themselves. One table over the routes; each row makes a resource whose searched field
 * contains a given text and names the list that should find it.
 */

let admin: User;
let u: User;

beforeAll(async () => {
  admin = await createUser('admin');
  expect(admin.role).toBe('admin');
  u = await createUser('filters');
});

/** LIKE's wildcards and its escape character, and quotes. */
const SPECIAL = `%_\\'"`;
/** Contains the quotes but not `%_` — what an unescaped `%_\'"` pattern would also match. */
const CONTROL = `zz\\'"`;
const chinese = (n: number) => Array.from({ length: n }, (_, i) => '天工智能体知识库工作流'[i % 11]).join('');

let seq = 0;
const created = async (path: string, json: unknown, status = 201) => {
  const res = await api(path, { token: u.token, json });
  expect(res.status, `${path}: ${res.text}`).toBe(status);
  return res.body;
};

let kbId: string | undefined;
const kb = async () => (kbId ??= (await created('/api/v1/knowledge-bases', { name: 'filter kb' })).id as string);

interface FilterRoute {
  name: string;
  /** The list, without the query. */
  list: () => Promise<string>;
  /** Makes a resource whose searched field contains `text`; answers what identifies it in the list. */
  make: (text: string) => Promise<string>;
  /** What identifies an item of the list (default: its id). */
  key?: (item: any) => string;
  /** The filter's documented maximum length (default 200). */
  max?: number;
}

const workflow = async (text: string) => (await created('/api/v1/workflows', { name: `wf ${++seq}`, description: `a ${text} b`, graph: chain([]) })).id as string;
const agent = async (text: string) => (await createAgent(u, { name: `agent ${++seq}`, description: `a ${text} b` })).id as string;

const routes: FilterRoute[] = [
  { name: 'agents', list: async () => '/api/v1/agents', make: agent },
  { name: 'goals', list: async () => '/api/v1/goals', make: async (text) => (await createGoal(u, { title: `goal ${++seq}`, description: `a ${text} b` })).id },
  {
    name: 'tasks',
    list: async () => '/api/v1/tasks',
    make: async (text) => (await created('/api/v1/tasks', { goal_id: (await createGoal(u)).id, title: `task ${++seq}`, description: `a ${text} b` })).id,
  },
  {
    name: 'tools',
    list: async () => '/api/v1/tools',
    make: async (text) =>
      (await created('/api/v1/tools', { name: `filter_tool_${++seq}`, type: 'code', description: `a ${text} b`, parameters: { type: 'object', properties: {} }, config: { source: '1' } })).id,
  },
  { name: 'knowledge bases', list: async () => '/api/v1/knowledge-bases', make: async (text) => (await created('/api/v1/knowledge-bases', { name: text })).id, max: 128 },
  {
    name: 'knowledge base documents',
    list: async () => `/api/v1/knowledge-bases/${await kb()}/documents`,
    make: async (text) => (await created(`/api/v1/knowledge-bases/${await kb()}/documents`, { title: `a ${text} b`, content: 'plain text' }, 202)).id,
  },
  { name: 'workflows', list: async () => '/api/v1/workflows', make: workflow },
  {
    name: 'execution logs',
    list: async () => '/api/v1/execution-logs',
    // A code node failing with the text: its error line is "Node boom failed: ... <text>".
    make: async (text) => {
      const graph = chain([{ id: 'boom', type: 'code', config: { code: 'function main(a) { throw new Error(a.t) }', inputs: { t: '{{inputs.t}}' } } }]);
      const { body } = await run(u.token, graph, { t: text });
      expect(body.status, JSON.stringify(body)).toBe('failed');
      return body.id;
    },
    key: (log) => log.execution_id,
  },
  {
    name: 'node templates',
    list: async () => '/api/v1/node-templates',
    make: async (text) => (await created('/api/v1/node-templates', { name: `tpl ${++seq}`, description: `a ${text} b`, node_type: 'template', config: { template: 'x' } })).id,
  },
  {
    name: 'data sources',
    list: async () => '/api/v1/data-sources',
    make: async (text) => (await created('/api/v1/data-sources', { name: `ds ${++seq}`, description: `a ${text} b`, type: 'json', config: { content: '[{"a":1}]' } })).id,
  },
  {
    name: 'agent market',
    list: async () => '/api/v1/agent-market',
    make: async (text) => (await created('/api/v1/agent-market', { agent_id: await agent(text), category: 'writing' })).id,
  },
  {
    name: 'template market',
    list: async () => '/api/v1/template-market',
    make: async (text) => (await created('/api/v1/template-market', { workflow_id: await workflow(text), category: 'automation' })).id,
  },
  {
    name: 'plugins',
    list: async () => '/api/v1/plugins',
    make: async (text) =>
      (
        await created('/api/v1/plugins', {
          name: `Filter plugin ${++seq}`,
          description: `a ${text} b`,
          is_published: true,
          openapi: { openapi: '3.0.3', info: { title: 'p', version: '1' }, servers: [{ url: `${env.FAKE_BASE_URL}/plugin-api` }], paths: { '/x': { get: { operationId: 'x' } } } },
        })
      ).id,
  },
];

const search = async (route: FilterRoute, text: string) => {
  const res = await api(`${await route.list()}?page_size=100&search=${encodeURIComponent(text)}`, { token: u.token });
  expect(res.status, `${route.name}: ${res.text}`).toBe(200);
  return [...new Set((res.body.items as any[]).map(route.key ?? ((item) => item.id)))];
};

describe('search filters', () => {
  it.each(routes.map((r) => [r.name, r] as const))('%s: LIKE characters match literally; a search at the length limit works', async (_, route) => {
    const marked = await route.make(`x${SPECIAL}y`);
    const control = await route.make(`x${CONTROL}y`);
    expect(await search(route, SPECIAL)).toEqual([marked]);
    expect(await search(route, CONTROL)).toEqual([control]);
    // (Builtin tools describe `%` too.)
    const percent = await search(route, '%');
    expect(percent).toContain(marked);
    expect(percent).not.toContain(control);
    expect(await search(route, 'X_%')).toEqual([]);
    // ASCII letters match in any case, as with LIKE.
    expect(await search(route, `X${SPECIAL}Y`)).toEqual([marked]);

    const long = chinese(route.max ?? 200);
    const found = await route.make(long);
    expect(await search(route, long)).toEqual([found]);
    expect(await search(route, `${long.slice(1)}!`)).toEqual([]);
  });

  it('the plugin market searches the same way', async () => {
    const plugin = routes.find((r) => r.name === 'plugins')!;
    const market = { ...plugin, list: async () => '/api/v1/plugins/market' };
    // 市场 is not among the characters the table's rows use, so only these plugins match.
    const marked = await plugin.make(`市场${SPECIAL}`);
    await plugin.make(`市场${CONTROL}`);
    const long = `市场${chinese(198)}`;
    const found = await plugin.make(long);
    expect(await search(market, `市场${SPECIAL}`)).toEqual([marked]);
    expect(await search(market, long)).toEqual([found]);
  });
});

describe('log filters', () => {
  const get = async (path: string) => {
    const res = await api(path, { token: admin.token });
    expect(res.status, res.text).toBe(200);
    return res.body;
  };

  it('system logs: message search and path prefix, literally, up to their limits', async () => {
    const long = chinese(200);
    await logApp(env, 'info', 'filters-test', `x${SPECIAL}y`);
    await logApp(env, 'info', 'filters-test', `x${CONTROL}y`);
    await logApp(env, 'info', 'filters-test', `a ${long} b`);
    const messages = async (q: string) =>
      ((await get(`/api/v1/system-logs?source=filters-test&page_size=100&search=${encodeURIComponent(q)}`)).items as any[]).map((l) => l.message);
    expect(await messages(SPECIAL)).toEqual([`x${SPECIAL}y`]);
    expect(await messages(CONTROL)).toEqual([`x${CONTROL}y`]);
    expect(await messages(long)).toEqual([`a ${long} b`]);
    expect(await messages(`${long.slice(1)}!`)).toEqual([]);
    expect((await get(`/api/v1/system-logs/application?source=filters-test&search=${encodeURIComponent(long)}`)).total).toBe(1);

    // Request lines by path prefix: a 500-character prefix, and `_` not matching any character.
    await api('/api/v1/agents', { token: u.token });
    const byPath = (p: string) => get(`/api/v1/system-logs?category=request&path=${encodeURIComponent(p)}`);
    expect((await eventually(() => byPath('/api/v1/AGENTS'), (b) => b.total > 0)).total).toBeGreaterThan(0);
    expect((await byPath('/api/v1/agent_')).total).toBe(0);
    expect((await byPath(`/api/v1/agents/${chinese(484)}`)).total).toBe(0);
  });

  it('audit logs: an action or a prefix of whole parts, literally, up to 200 characters', async () => {
    await createAgent(admin);
    const actions = async (q: string, path = '/api/v1/audit-logs') => get(`${path}?action=${encodeURIComponent(q)}`);
    const found = await eventually(() => actions('agents'), (b) => b.total > 0);
    expect(found.items.every((e: any) => e.action.startsWith('agents.'))).toBe(true);
    for (const q of ['agent_', 'a%', chinese(200), `agents.${chinese(193)}`]) {
      expect((await actions(q)).total, q).toBe(0);
      expect((await actions(q, '/api/v1/audit-logs/stats')).total, q).toBe(0);
    }
    expect((await actions('agents', '/api/v1/audit-logs/stats')).total).toBeGreaterThan(0);
  });
});
