import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, createUser, expectError } from '../../support/helpers';
import { chain, createWorkflow } from '../../support/wf-helpers';

const W = '/api/v1/workflows';
const greet = chain([{ id: 'greet', type: 'template', config: { template: 'Hello {{inputs.name}}' } }], { greeting: '{{greet.text}}' });

describe('workflow CRUD', () => {
  it('creates, reads, lists with search/status, updates and deletes; owner-scoped', async () => {
    const u = await createUser();
    const other = await createUser();
    const created = await api(W, { token: u.token, json: { name: 'Greeter', description: 'says hi', graph: greet, inputs_schema: [{ name: 'name', type: 'string', required: true }], id: 'x', owner_id: other.id, version: 9 } });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ name: 'Greeter', version: 1, status: 'draft', owner_id: u.id });
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const id = created.body.id;
    await api(W, { token: u.token, json: { name: 'Other thing', status: 'active' } });

    expect((await api(`${W}/${id}`, { token: u.token })).body.graph).toEqual(greet);
    const search = await api(`${W}?search=greet`, { token: u.token });
    expect(search.body).toMatchObject({ total: 1, page: 1, page_size: 20 });
    expect(search.body.items[0]).toMatchObject({ id, node_count: 3 });
    expect(search.body.items[0].graph).toBeUndefined();
    expect((await api(`${W}?status=active`, { token: u.token })).body.items.map((w: any) => w.name)).toEqual(['Other thing']);
    expect((await api(W, { token: other.token })).body.total).toBe(0);

    expectError(await api(`${W}/${id}`, { token: other.token }), 404, 'NOT_FOUND');
    expectError(await api(`${W}/${id}`, { method: 'PUT', token: other.token, json: { name: 'stolen' } }), 404);
    expectError(await api(`${W}/${id}`, { method: 'DELETE', token: other.token }), 404);
    expectError(await api(`${W}/${crypto.randomUUID()}`, { token: u.token }), 404);
    expectError(await api(W, { token: u.token, json: { name: '' } }), 422, 'VALIDATION_ERROR');
    expectError(await api(W, { token: u.token, json: { name: 'x', graph: { nodes: 'no' } } }), 422);
    expectError(await api(W), 401, 'UNAUTHORIZED');
    expectError(await api(W, { json: { name: 'x' } }), 401);

    const put = await api(`${W}/${id}`, { method: 'PUT', token: u.token, json: { name: 'Greeter 2', status: 'active' } });
    expect(put.body).toMatchObject({ name: 'Greeter 2', version: 2, status: 'active' });
    expect(put.body.graph).toEqual(greet);
    expectError(await api(`${W}/${id}`, { method: 'PUT', token: u.token, json: { name: '' } }), 422);

    const del = await api(`${W}/${id}`, { method: 'DELETE', token: u.token });
    expect(del.status).toBe(204);
    expectError(await api(`${W}/${id}`, { token: u.token }), 404);
    const { n } = (await env.DB.prepare('SELECT count(*) AS n FROM workflow_versions WHERE workflow_id = ?').bind(id).first<{ n: number }>())!;
    expect(n).toBe(0);
  });

  it('saves an invalid graph as a draft, but executing it is 422 with the errors', async () => {
    const u = await createUser();
    const wf = await createWorkflow(u.token, { nodes: [{ id: 'end', type: 'end' }], edges: [] });
    const res = expectError(await api(`${W}/${wf.id}/execute`, { token: u.token, json: {} }), 422, 'VALIDATION_ERROR');
    expect(res.message).toContain('NO_START');
  });
});

describe('POST /workflows/validate', () => {
  const check = async (graph: unknown, inputs_schema: unknown[] = []) => {
    const u = await createUser();
    const res = await api(`${W}/validate`, { token: u.token, json: { graph, inputs_schema } });
    expect(res.status, res.text).toBe(200);
    return res.body as { valid: boolean; errors: Array<{ node_id?: string; edge?: any; code: string; message: string }> };
  };
  const codes = (r: { errors: Array<{ code: string }> }) => r.errors.map((e) => e.code).sort();

  it('accepts a valid graph', async () => {
    expect(await check(greet, [{ name: 'name' }])).toEqual({ valid: true, errors: [] });
  });

  it('needs exactly one start and an end', async () => {
    expect(codes(await check({ nodes: [{ id: 'e', type: 'end' }], edges: [] }))).toEqual(['NO_START']);
    const two = await check({ nodes: [{ id: 's', type: 'start' }, { id: 's2', type: 'start' }, { id: 'e', type: 'end' }], edges: [{ source: 's', target: 'e' }, { source: 's2', target: 'e' }] });
    expect(two.errors).toContainEqual(expect.objectContaining({ code: 'MULTIPLE_START', node_id: 's2' }));
    expect(codes(await check({ nodes: [{ id: 's', type: 'start' }], edges: [] }))).toContain('NO_END');
  });

  it('reports unreachable nodes, dead ends, unknown nodes and ports, cycles', async () => {
    const r = await check({
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'a', type: 'template', config: { template: 'x' } },
        { id: 'b', type: 'template', config: { template: 'y' } },
        { id: 'lonely', type: 'template', config: { template: 'z' } },
        { id: 'dead', type: 'template', config: { template: 'd' } },
        { id: 'end', type: 'end' },
      ],
      edges: [
        { source: 'start', target: 'a' },
        { source: 'a', target: 'b' },
        { source: 'b', target: 'a' },
        { source: 'b', target: 'end' },
        { source: 'start', target: 'dead' },
        { source: 'start', target: 'ghost' },
        { source: 'a', target: 'end', source_handle: 'yes' },
      ],
    });
    expect(r.valid).toBe(false);
    expect(r.errors).toContainEqual(expect.objectContaining({ code: 'UNREACHABLE', node_id: 'lonely' }));
    expect(r.errors).toContainEqual(expect.objectContaining({ code: 'NO_PATH_TO_END', node_id: 'dead' }));
    expect(r.errors).toContainEqual(expect.objectContaining({ code: 'EDGE_UNKNOWN_NODE', edge: { source: 'start', target: 'ghost' } }));
    expect(r.errors).toContainEqual(expect.objectContaining({ code: 'EDGE_UNKNOWN_PORT', edge: { source: 'a', target: 'end', source_handle: 'yes' } }));
    expect(r.errors.filter((e) => e.code === 'CYCLE').map((e) => e.node_id).sort()).toEqual(['a', 'b']);
  });

  it('checks each node config against its type, and unknown types', async () => {
    const r = await check(chain([{ id: 'l', type: 'llm', config: {} }, { id: 'x', type: 'teleport' }, { id: 'c', type: 'condition', config: { cases: [{ id: 'a', conditions: [{ variable: 'inputs.x', operator: 'between' }] }] } }]));
    expect(r.errors).toContainEqual(expect.objectContaining({ node_id: 'l', code: 'INVALID_CONFIG', message: expect.stringContaining('config.prompt') }));
    expect(r.errors).toContainEqual(expect.objectContaining({ node_id: 'x', code: 'UNKNOWN_NODE_TYPE' }));
    expect(r.errors).toContainEqual(expect.objectContaining({ node_id: 'c', code: 'INVALID_CONFIG' }));
  });

  it('resolves every variable reference', async () => {
    const r = await check(
      chain([
        { id: 'a', type: 'template', config: { template: '{{inputs.name}} {{inputs.nope}} {{sys.user_id}} {{sys.bogus}}' } },
        { id: 'b', type: 'template', config: { template: '{{a.text}} {{a.missing}} {{c.text}} {{ghost.x}}' } },
        { id: 'c', type: 'template', config: { template: 'c' } },
      ]),
      [{ name: 'name' }],
    );
    const msgs = r.errors.filter((e) => e.code === 'UNRESOLVED_VARIABLE').map((e) => `${e.node_id} ${e.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^a \{\{inputs\.nope\}\}/),
        expect.stringMatching(/^a \{\{sys\.bogus\}\}/),
        expect.stringMatching(/^b \{\{a\.missing\}\}/),
        expect.stringMatching(/^b \{\{c\.text\}\}: node c is not upstream/),
        expect.stringMatching(/^b \{\{ghost\.x\}\}/),
      ]),
    );
    expect(msgs).toHaveLength(5);
  });

  it('validates loop bodies (their own start/end, their inputs, the outer scope) and error branches', async () => {
    const r = await check(
      chain([
        { id: 'pre', type: 'template', config: { template: 'p' } },
        {
          id: 'each',
          type: 'iteration',
          config: {
            items: '{{inputs.list}}',
            body: { nodes: [{ id: 'start', type: 'start' }, { id: 't', type: 'template', config: { template: '{{inputs.item}} {{pre.text}} {{inputs.bad}}' } }], edges: [{ source: 'start', target: 't' }] },
          },
        },
        { id: 'h', type: 'http_request', config: { url: 'https://example.com' }, error_strategy: 'error_branch' },
      ]),
    );
    expect(r.errors).toContainEqual(expect.objectContaining({ code: 'NO_END', message: expect.stringContaining('each') }));
    expect(r.errors).toContainEqual(expect.objectContaining({ node_id: 'each/t', code: 'UNRESOLVED_VARIABLE', message: expect.stringContaining('inputs.bad') }));
    expect(r.errors.filter((e) => e.node_id === 'each/t')).toHaveLength(1);
    expect(r.errors).toContainEqual(expect.objectContaining({ node_id: 'h', code: 'ERROR_BRANCH_MISSING' }));
  });

  it('422 for a malformed body, 401 without a token', async () => {
    const u = await createUser();
    expectError(await api(`${W}/validate`, { token: u.token, json: { graph: { nodes: [{}] } } }), 422);
    expectError(await api(`${W}/validate`, { json: { graph: greet } }), 401);
  });
});

describe('versions and rollback', () => {
  it('stores every PUT as a version; rollback appends a copy of v, never rewriting history', async () => {
    const u = await createUser();
    const other = await createUser();
    const wf = await createWorkflow(u.token, greet);
    const g2 = chain([{ id: 'greet', type: 'template', config: { template: 'Hi {{inputs.name}}' } }], { greeting: '{{greet.text}}' });
    await api(`${W}/${wf.id}`, { method: 'PUT', token: u.token, json: { graph: g2, note: 'friendlier' } });
    await api(`${W}/${wf.id}`, { method: 'PUT', token: u.token, json: { name: 'renamed' } });

    const list = await api(`${W}/${wf.id}/versions`, { token: u.token });
    expect(list.body.total).toBe(3);
    expect(list.body.items.map((v: any) => v.version)).toEqual([3, 2, 1]);
    expect(list.body.items[1].note).toBe('friendlier');
    expect((await api(`${W}/${wf.id}/versions/2`, { token: u.token })).body.graph).toEqual(g2);
    expect((await api(`${W}/${wf.id}/versions/1`, { token: u.token })).body.graph).toEqual(greet);

    const rb = await api(`${W}/${wf.id}/versions/1/rollback`, { method: 'POST', token: u.token });
    expect(rb.status, rb.text).toBe(200);
    expect(rb.body).toMatchObject({ version: 4, name: 'wf' });
    expect(rb.body.graph).toEqual(greet);
    const after = await api(`${W}/${wf.id}/versions`, { token: u.token });
    expect(after.body.items.map((v: any) => v.version)).toEqual([4, 3, 2, 1]);
    expect(after.body.items[0].note).toBe('rollback to version 1');
    expect((await api(`${W}/${wf.id}/versions/2`, { token: u.token })).body.graph).toEqual(g2);

    expectError(await api(`${W}/${wf.id}/versions/9`, { token: u.token }), 404);
    expectError(await api(`${W}/${wf.id}/versions/9/rollback`, { method: 'POST', token: u.token }), 404);
    expectError(await api(`${W}/${wf.id}/versions/0`, { token: u.token }), 422);
    expectError(await api(`${W}/${wf.id}/versions`, { token: other.token }), 404);
    expectError(await api(`${W}/${wf.id}/versions/1`, { token: other.token }), 404);
    expectError(await api(`${W}/${wf.id}/versions/1/rollback`, { method: 'POST', token: other.token }), 404);
    expectError(await api(`${W}/${wf.id}/versions`), 401);
  });
});

describe('export / import', () => {
  it('round-trips a workflow through a self-contained document', async () => {
    const u = await createUser();
    const other = await createUser();
    const wf = await createWorkflow(u.token, greet, { description: 'd', inputs_schema: [{ name: 'name', required: true }] });
    const exp = await api(`${W}/${wf.id}/export`, { token: u.token });
    expect(exp.status).toBe(200);
    expect(exp.body).toMatchObject({ format: 'tiangong.workflow', format_version: 1 });
    expect(exp.text).not.toContain(wf.id);
    expect(exp.text).not.toContain(u.id);

    const imp = await api(`${W}/import`, { token: other.token, json: exp.body });
    expect(imp.status, imp.text).toBe(201);
    expect(imp.body).toMatchObject({ name: 'wf', description: 'd', owner_id: other.id, version: 1 });
    expect(imp.body.id).not.toBe(wf.id);
    expect(imp.body.graph).toEqual(greet);
    expect(imp.body.inputs_schema).toEqual([{ name: 'name', required: true }]);
    const again = await api(`${W}/${imp.body.id}/export`, { token: other.token });
    expect({ ...again.body, exported_at: null }).toEqual({ ...exp.body, exported_at: null });

    expectError(await api(`${W}/import`, { token: u.token, json: { ...exp.body, format: 'other' } }), 422);
    expectError(await api(`${W}/import`, { token: u.token, json: { ...exp.body, format_version: 2 } }), 422);
    expectError(await api(`${W}/${wf.id}/export`, { token: other.token }), 404);
    expectError(await api(`${W}/import`, { json: exp.body }), 401);
  });
});

/** A knowledge base of the user with one ready document (the queue consumer ingests it). */
async function readyKnowledgeBase(token: string, title: string, content: string) {
  const kb = await api('/api/v1/knowledge-bases', { token, json: { name: 'Policies' } });
  expect(kb.status, kb.text).toBe(201);
  const doc = await api(`/api/v1/knowledge-bases/${kb.body.id}/documents`, { token, json: { title, content } });
  expect(doc.status, doc.text).toBe(202);
  const until = Date.now() + 20_000;
  for (;;) {
    const docs = await api(`/api/v1/knowledge-bases/${kb.body.id}/documents`, { token });
    if (docs.body.items[0].status === 'ready') break;
    if (docs.body.items[0].status === 'failed' || Date.now() > until) throw new Error(`document not ready: ${docs.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { kb_id: kb.body.id as string, document_id: doc.body.id as string };
}

describe('templates', () => {
  it('lists at least 8 builtin templates; each runs as it is from its own sample inputs (a knowledge base id aside)', async () => {
    const u = await createUser();
    const { kb_id } = await readyKnowledgeBase(u.token, 'Refunds', 'Refunds are accepted within 30 days of purchase.');
    const list = await api(`${W}/templates?page_size=100`, { token: u.token });
    expect(list.status).toBe(200);
    expect(list.body.total).toBeGreaterThanOrEqual(8);
    for (const t of list.body.items) {
      const detail = await api(`${W}/templates/${t.id}`, { token: u.token });
      const v = await api(`${W}/validate`, { token: u.token, json: { graph: detail.body.graph, inputs_schema: detail.body.inputs_schema } });
      expect(v.body, t.id).toEqual({ valid: true, errors: [] });
      const made = await api(`${W}/templates/${t.id}/create`, { method: 'POST', token: u.token });
      expect(made.status, made.text).toBe(201);
      expect(made.body).toMatchObject({ template_id: t.id, owner_id: u.id, version: 1 });
      const inputs = 'kb_id' in detail.body.sample_inputs ? { ...detail.body.sample_inputs, kb_id } : detail.body.sample_inputs;
      const run = await api(`${W}/${made.body.id}/execute`, { token: u.token, json: { inputs } });
      if (t.id === 'approval-flow') {
        expect(run.status, run.text).toBe(202);
        expect(run.body.status).toBe('waiting_approval');
      } else {
        expect(run.status, `${t.id}: ${run.text}`).toBe(200);
        expect(run.body.status, `${t.id}: ${run.text}`).toBe('succeeded');
      }
    }
  });

  it('template runs produce the expected results with the mock model', async () => {
    const u = await createUser();
    const runTemplate = async (id: string, inputs: Record<string, unknown>) => {
      const made = await api(`${W}/templates/${id}/create`, { method: 'POST', token: u.token, json: { name: `mine ${id}` } });
      expect(made.body.name).toBe(`mine ${id}`);
      return (await api(`${W}/${made.body.id}/execute`, { token: u.token, json: { inputs } })).body;
    };
    const ticket = await runTemplate('ticket-router', { ticket: 'The app shows a technical error on login' });
    expect(ticket.outputs).toEqual({ queue: 'technical', reply: 'echo: The app shows a technical error on login' });
    expect(ticket.nodes.find((n: any) => n.node_id === 'billing_reply').status).toBe('skipped');
    const other = await runTemplate('ticket-router', { ticket: 'Where is your office?' });
    expect(other.outputs.queue).toBe('other');
    const extract = await runTemplate('data-extraction', { text: 'name: Bob, age: 12, email: bob@example.com' });
    expect(extract.outputs).toEqual({ name: 'Bob', age: 12, email: 'bob@example.com', note: 'Bob is a minor or of unknown age' });
    const batch = await runTemplate('batch-summarize', { items: ['a', 'b', 'c', 'd', 'e'] });
    expect(batch.outputs.count).toBe(5);
    expect(batch.outputs.summaries.map((s: any) => s.summary)).toEqual(['echo: a', 'echo: b', 'echo: c', 'echo: d', 'echo: e']);
    const loop = await runTemplate('iterative-refinement', { draft: 'v0', rounds: 3 });
    expect(loop.outputs).toEqual({ text: 'echo: echo: echo: v0', iterations: 3 });
    const research = await runTemplate('parallel-research', { topic: 'bees' });
    expect(research.outputs.notes).toBe('## Benefits\necho: bees\n## Risks\necho: bees\n## Examples\necho: bees');
  });

  it('rag-qa: retrieves from the knowledge base, answers from the passages and returns the citations', async () => {
    const u = await createUser();
    const { kb_id, document_id } = await readyKnowledgeBase(u.token, 'Refund policy', 'Refunds are accepted within 30 days of purchase. Shipping costs are not refunded.');
    const made = await api(`${W}/templates/rag-qa/create`, { method: 'POST', token: u.token });
    expect(made.body.graph.nodes.map((n: any) => n.type)).toEqual(['start', 'knowledge_retrieval', 'llm', 'answer', 'end']);
    const run = await api(`${W}/${made.body.id}/execute`, { token: u.token, json: { inputs: { question: 'How many days is the refund window?', kb_id } } });
    expect(run.status, run.text).toBe(200);
    expect(run.body.status).toBe('succeeded');
    // The mock model echoes the question; the passages went into its system prompt.
    expect(run.body.outputs.answer).toBe('echo: How many days is the refund window?');
    expect(run.body.outputs.citations).toHaveLength(1);
    expect(run.body.outputs.citations[0]).toMatchObject({ document_id, document_name: 'Refund policy', kb_id });
    expect(run.body.outputs.citations[0].content).toContain('30 days');
    const retrieve = run.body.nodes.find((n: any) => n.node_id === 'retrieve');
    expect(retrieve.outputs.context).toBe(`[1] Refund policy\n${run.body.outputs.citations[0].content}`);
    const generate = run.body.nodes.find((n: any) => n.node_id === 'generate');
    expect(generate.inputs.system_prompt).toContain('[1] Refund policy\nRefunds are accepted within 30 days');

    // A knowledge base of someone else: the retrieval fails, naming it.
    const other = await createUser();
    const theirs = await api(`${W}/templates/rag-qa/create`, { method: 'POST', token: other.token });
    const denied = await api(`${W}/${theirs.body.id}/execute`, { token: other.token, json: { inputs: { question: 'x', kb_id } } });
    expect(denied.body.status).toBe('failed');
    expect(denied.body.error).toMatchObject({ code: 'NOT_FOUND', node_id: 'retrieve' });
    expect(denied.body.error.message).toContain(kb_id);
  });

  it('404 for an unknown template; 401 without a token; 422 for a bad name', async () => {
    const u = await createUser();
    expectError(await api(`${W}/templates/nope`, { token: u.token }), 404);
    expectError(await api(`${W}/templates/nope/create`, { method: 'POST', token: u.token }), 404);
    expectError(await api(`${W}/templates/grounded-qa/create`, { method: 'POST', token: u.token, json: { name: '' } }), 422);
    expectError(await api(`${W}/templates`), 401);
    expectError(await api(`${W}/templates/grounded-qa`), 401);
  });
});

describe('POST /workflows/{id}/execute', () => {
  it('200 with the result and execution id; D1 records the run and its nodes', async () => {
    const u = await createUser();
    const wf = await createWorkflow(u.token, greet, { inputs_schema: [{ name: 'name', required: true }] });
    const res = await api(`${W}/${wf.id}/execute`, { token: u.token, json: { inputs: { name: 'Ann' } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: 'succeeded', outputs: { greeting: 'Hello Ann' }, workflow_id: wf.id, workflow_version: 1, trigger: 'api' });
    expect(res.body.execution_id).toBe(res.body.id);
    const row = await env.DB.prepare('SELECT status, outputs FROM executions WHERE id = ?').bind(res.body.id).first<any>();
    expect(row).toEqual({ status: 'succeeded', outputs: JSON.stringify({ greeting: 'Hello Ann' }) });
    const nodes = await env.DB.prepare('SELECT node_id, status FROM execution_nodes WHERE execution_id = ? ORDER BY node_id').bind(res.body.id).all();
    expect(nodes.results).toEqual([
      { node_id: 'end', status: 'succeeded' },
      { node_id: 'greet', status: 'succeeded' },
      { node_id: 'start', status: 'succeeded' },
    ]);
  });

  it('202 with async: true, and when the run outlasts wait_ms', async () => {
    const u = await createUser();
    const slow = chain([{ id: 'wait', type: 'delay', config: { duration_ms: 400 } }], { done: true });
    const wf = await createWorkflow(u.token, slow);
    const a = await api(`${W}/${wf.id}/execute`, { token: u.token, json: { async: true } });
    expect(a.status, a.text).toBe(202);
    expect(a.body.execution_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(['running', 'pending']).toContain(a.body.status);
    const b = await api(`${W}/${wf.id}/execute`, { token: u.token, json: { wait_ms: 50 } });
    expect(b.status).toBe(202);
    const c = await api(`${W}/${wf.id}/execute`, { token: u.token, json: { wait_ms: 5000 } });
    expect(c.status).toBe(200);
    expect(c.body.outputs).toEqual({ done: true });
  });

  it('422 for missing or mistyped inputs; 404 for another user; 401', async () => {
    const u = await createUser();
    const other = await createUser();
    const wf = await createWorkflow(u.token, greet, { inputs_schema: [{ name: 'name', type: 'string', required: true }] });
    expect(expectError(await api(`${W}/${wf.id}/execute`, { token: u.token, json: { inputs: {} } }), 422).message).toContain('inputs.name');
    expectError(await api(`${W}/${wf.id}/execute`, { token: u.token, json: { inputs: { name: 3 } } }), 422);
    expectError(await api(`${W}/${wf.id}/execute`, { token: u.token, json: { wait_ms: -1 } }), 422);
    expectError(await api(`${W}/${wf.id}/execute`, { token: other.token, json: { inputs: { name: 'x' } } }), 404);
    expectError(await api(`${W}/${wf.id}/execute`, { json: {} }), 401);
  });
});
