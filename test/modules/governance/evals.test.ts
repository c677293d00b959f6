import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../../src/index';
import { CreateRunBody } from '../../../src/modules/governance/evals/schemas';
import { openRun, runMessages } from '../../../src/modules/governance/evals/service';
import { recordResult } from '../../../src/modules/governance/evals/store';
import { score, type RowOutcome } from '../../../src/engine/evals/scorers';
import { bootstrapMeanInterval } from '../../../src/engine/evals/stats';
import { api, createUser, expectError, seedConversation } from '../../support/helpers';
import { count, createAgent, eventually, post, type User } from '../../support/goal-helpers';
import { chain, createWorkflow } from '../../support/wf-helpers';

const E = '/api/v1/evals';
const get = (u: User, path: string) => api(path, { token: u.token });

/** Runs the worker's queue handler on a hand-made batch, as the queue would. */
async function deliver(batch: MessageBatch<unknown>) {
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function createDataset(u: User, body: Record<string, unknown>) {
  const res = await post(u, `${E}/datasets`, { name: 'suite', ...body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function startRun(u: User, body: Record<string, unknown>) {
  const res = await post(u, `${E}/runs`, body);
  expect(res.status, res.text).toBe(202);
  expect(res.body).toMatchObject({ status: 'queued', done: 0 });
  return res.body;
}

/** Waits for the queue consumer to finish a run. */
async function finished(u: User, runId: string) {
  const run = await eventually(() => get(u, `${E}/runs/${runId}`), (r) => !['queued', 'running'].includes(r.body.status), 30_000);
  expect(run.body.status, run.text).toBe('completed');
  return run.body;
}

/** A conversation of `chatter` with an agent: a question and the answer (inserted as a chat turn would be). */
const conversation = (chatter: User, agentId: string, question: string, answer: string) => seedConversation(chatter, agentId, question, answer);

describe('eval datasets', () => {
  it('a regression suite from negative feedback in one call; adding and removing rows make versions', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    const bad = await conversation(u, agent.id, 'what is 2+2?', 'five');
    const good = await conversation(u, agent.id, 'capital of France?', 'Paris');
    const worse = await conversation(u, agent.id, 'spell cat', 'dog');
    expect((await post(u, '/api/v1/feedback', { target_type: 'message', target_id: bad.answer, thumb: 'down', comment: 'wrong maths', tags: ['maths'] })).status).toBe(201);
    expect((await post(u, '/api/v1/feedback', { target_type: 'message', target_id: good.answer, thumb: 'up' })).status).toBe(201);
    expect((await post(u, '/api/v1/feedback', { target_type: 'message', target_id: worse.answer, rating: 1 })).status).toBe(201);

    const ds = await createDataset(u, { name: 'regressions', from_feedback: { agent_id: agent.id } });
    expect(ds).toMatchObject({ owner_id: u.id, name: 'regressions', version: 1, row_count: 2, versions: [{ version: 1, row_count: 2, change: 'created' }] });
    const rows = (await get(u, `${E}/datasets/${ds.id}/rows`)).body;
    expect(rows.total).toBe(2);
    expect(rows.items.map((r: any) => r.input).sort()).toEqual(['spell cat', 'what is 2+2?']);
    const maths = rows.items.find((r: any) => r.input === 'what is 2+2?');
    expect(maths).toMatchObject({ expected: null, added_version: 1, removed_version: null, metadata: { source: 'feedback', rejected_output: 'five', comment: 'wrong maths', tags: ['maths'], agent_id: agent.id } });

    // Rows from a JSON body and from chosen chat messages: version 2.
    const v2 = await post(u, `${E}/datasets/${ds.id}/rows`, { rows: [{ input: 'hello', expected: 'echo: hello' }], message_ids: [good.answer] });
    expect(v2.status, v2.text).toBe(201);
    expect(v2.body).toMatchObject({ version: 2, row_count: 4 });
    const all = (await get(u, `${E}/datasets/${ds.id}/rows`)).body.items;
    expect(all.map((r: any) => [r.position, r.input])).toEqual([
      [expect.any(Number), expect.any(String)],
      [expect.any(Number), expect.any(String)],
      [3, 'hello'],
      [4, 'capital of France?'],
    ]);
    expect(all[3].metadata).toMatchObject({ source: 'message', answer: 'Paris' });

    // Removing one: version 3; version 1 still reads its two rows.
    const v3 = await post(u, `${E}/datasets/${ds.id}/rows/remove`, { row_ids: [maths.id] });
    expect(v3.status, v3.text).toBe(200);
    expect(v3.body).toMatchObject({ version: 3, row_count: 3 });
    expect((await get(u, `${E}/datasets/${ds.id}/rows`)).body.items.map((r: any) => r.input)).not.toContain('what is 2+2?');
    expect((await get(u, `${E}/datasets/${ds.id}/rows?version=1`)).body.total).toBe(2);
    expect((await get(u, `${E}/datasets/${ds.id}`)).body.versions.map((v: any) => [v.version, v.row_count, v.change])).toEqual([
      [1, 2, 'created'],
      [2, 4, 'added'],
      [3, 3, 'removed'],
    ]);
    expectError(await post(u, `${E}/datasets/${ds.id}/rows/remove`, { row_ids: [maths.id] }), 422, 'VALIDATION_ERROR');
    expectError(await get(u, `${E}/datasets/${ds.id}/rows?version=9`), 422);
  });

  it('rows from an uploaded JSON Lines or CSV file; a bad line is named', async () => {
    const u = await createUser();
    const upload = async (name: string, text: string, type: string) => {
      const form = new FormData();
      form.append('file', new File([text], name, { type }));
      const res = await api('/api/v1/uploads', { token: u.token, method: 'POST', body: form });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    };
    const jsonl = await upload('suite.txt', '{"input":"a","expected":"echo: a"}\n\n{"input":{"city":"Paris"},"metadata":{"k":1}}\n', 'text/plain');
    const ds = await createDataset(u, { upload_id: jsonl });
    const rows = (await get(u, `${E}/datasets/${ds.id}/rows`)).body.items;
    expect(rows.map((r: any) => [r.input, r.expected, r.metadata])).toEqual([
      ['a', 'echo: a', {}],
      [{ city: 'Paris' }, null, { k: 1 }],
    ]);
    const csv = await upload('suite.csv', 'input,expected,metadata\nb,echo: b,"{""tag"":""x""}"\nc,,\n', 'text/csv');
    const v2 = await post(u, `${E}/datasets/${ds.id}/rows`, { upload_id: csv });
    expect(v2.body).toMatchObject({ version: 2, row_count: 4 });
    const all = (await get(u, `${E}/datasets/${ds.id}/rows`)).body.items;
    expect(all.slice(2).map((r: any) => [r.input, r.expected, r.metadata])).toEqual([
      ['b', 'echo: b', { tag: 'x' }],
      ['c', null, {}],
    ]);
    const broken = await upload('bad.txt', '{"input":"ok"}\nnot json\n', 'text/plain');
    expect(expectError(await post(u, `${E}/datasets`, { name: 'x', upload_id: broken }), 422).message).toContain('line 2');
  });
});

describe('eval runs', () => {
  it('50 rows, three scorers, on the mock model: deterministic scores, progress and per-row results', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    // Every fifth row expects what the mock will not say.
    const rows = Array.from({ length: 50 }, (_, k) => {
      const i = k + 1;
      return { input: `question ${i}`, expected: i % 5 === 0 ? `answer ${i}` : `echo: question ${i}`, metadata: { i } };
    });
    const ds = await createDataset(u, { rows });
    const run = await startRun(u, {
      dataset_id: ds.id,
      name: 'baseline',
      target: { type: 'agent', agent_id: agent.id },
      scorers: [{ type: 'exact_match' }, { type: 'contains', name: 'says_echo', value: 'echo:' }, { type: 'llm_judge', rubric: 'The answer repeats the question.' }],
      concurrency: 3,
      price: { input_per_million: 1000, output_per_million: 2000 },
    });
    expect(run).toMatchObject({ total: 50, dataset_version: 1, target: { type: 'agent', agent_id: agent.id, version: 1 }, concurrency: 3 });

    const done = await finished(u, run.id);
    expect(done).toMatchObject({ done: 50, passed: 40, errors: 0 });
    expect(done.summary.pass_rate).toBe(0.8);
    expect(done.summary.scorers).toEqual([
      { scorer: 'exact_match', mean: 0.8, pass_rate: 0.8 },
      { scorer: 'says_echo', mean: 1, pass_rate: 1 },
      { scorer: 'llm_judge', mean: 0.8, pass_rate: 0.8 },
    ]);
    expect(done.summary.tokens).toBeGreaterThan(0);
    expect(done.summary.cost).toBeGreaterThan(0);

    const failing = (await get(u, `${E}/runs/${run.id}/results?passed=false&page_size=100`)).body;
    expect(failing.total).toBe(10);
    expect(failing.items.map((r: any) => r.position)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    expect(failing.items[0]).toMatchObject({ output: 'echo: question 5', passed: false, error: null });
    expect(failing.items[0].scores).toEqual([
      { scorer: 'exact_match', score: 0, passed: false },
      { scorer: 'says_echo', score: 1, passed: true },
      { scorer: 'llm_judge', score: 0, passed: false, detail: 'mock judge: the expected answer is missing' },
    ]);
    const first = (await get(u, `${E}/runs/${run.id}/results?page_size=1`)).body.items[0];
    expect(first.prompt_tokens).toBeGreaterThan(0);
    expect(first.cost).toBeCloseTo((first.prompt_tokens * 1000 + first.completion_tokens * 2000) / 1e6, 10);
    // One agent turn and one judge call per row, recorded as the owner's model calls.
    expect(await count("SELECT count(*) AS n FROM llm_calls WHERE user_id = ? AND source = 'eval-judge'", u.id)).toBe(50);

    // Live progress over SSE: an ended run answers its last progress and done at once.
    const events = await api(`${E}/runs/${run.id}/events`, { token: u.token });
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    expect(events.text).toContain('event: progress');
    expect(events.text).toContain('"done":50');
    expect(events.text).toContain('event: done');
    expectError(await post(u, `${E}/runs/${run.id}/cancel`), 409, 'CONFLICT');
  });

  it('a redelivered message scores nothing twice; the result key keeps a racing insert out', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    const ds = await createDataset(u, { rows: Array.from({ length: 12 }, (_, i) => ({ input: `r${i}`, expected: `echo: r${i}` })) });
    const run = await startRun(u, { dataset_id: ds.id, target: { type: 'agent', agent_id: agent.id }, scorers: [{ type: 'exact_match' }, { type: 'llm_judge', rubric: 'r' }] });
    const before = await finished(u, run.id);
    expect(before).toMatchObject({ done: 12, passed: 12 });
    const calls = await count('SELECT count(*) AS n FROM llm_calls WHERE user_id = ?', u.id);
    const rowIds = (await get(u, `${E}/datasets/${ds.id}/rows?page_size=100`)).body.items.map((r: any) => r.id);

    const body = { run_id: run.id, row_ids: rowIds.slice(0, 10) };
    const batch = createMessageBatch('tiangong-evals', [
      { id: 'e1', timestamp: new Date(), attempts: 2, body },
      { id: 'e2', timestamp: new Date(), attempts: 2, body: { run_id: run.id, row_ids: rowIds.slice(10) } },
    ]);
    const result = await deliver(batch);
    expect(result.explicitAcks.sort()).toEqual(['e1', 'e2']);
    expect(await count('SELECT count(*) AS n FROM eval_results WHERE run_id = ?', run.id)).toBe(12);
    expect(await count('SELECT count(*) AS n FROM llm_calls WHERE user_id = ?', u.id)).toBe(calls);
    expect((await get(u, `${E}/runs/${run.id}`)).body).toMatchObject({ status: 'completed', done: 12, passed: 12, summary: before.summary });

    // Two deliveries racing past the check: the second insert does nothing and the counts stay exact.
    const raced = await recordResult(env.DB, { id: crypto.randomUUID(), runId: run.id, rowId: rowIds[0], position: 1, output: 'other', passed: 0 });
    expect(raced.inserted).toBe(false);
    expect(raced.run).toMatchObject({ done: 12, passed: 12 });
    expect((await env.DB.prepare('SELECT output FROM eval_results WHERE run_id = ? AND row_id = ?').bind(run.id, rowIds[0]).first<{ output: string }>())!.output).toBe('echo: r0');

    // A malformed message is dropped.
    expect((await deliver(createMessageBatch('tiangong-evals', [{ id: 'b1', timestamp: new Date(), attempts: 1, body: { nope: 1 } }]))).explicitAcks).toEqual(['b1']);
  });

  it('a cancelled run runs no more rows; dead letters fail an unfinished run', async () => {
    const u = await createUser();
    const caller = { id: u.id, email: u.email, nickname: 'user', role: 'user' as const };
    // Runs recorded without their messages on the queue: nothing can process them before the test does.
    const open = async (rows: Array<{ input: string }>, scorers: unknown[]) => {
      const ds = await createDataset(u, { rows });
      return openRun(env, caller, CreateRunBody.parse({ dataset_id: ds.id, target: { type: 'model', provider: 'mock', model_name: 'mock-1' }, scorers }));
    };

    const { run, rowIds } = await open([{ input: 'x' }, { input: 'y' }], [{ type: 'regex', pattern: '^echo' }]);
    expect(run.status).toBe('queued');
    const cancelled = await post(u, `${E}/runs/${run.id}/cancel`);
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ id: run.id, status: 'cancelled', done: 0, total: 2 });
    expect(cancelled.body.finished_at).toEqual(expect.any(String));
    const [message] = runMessages(run.id, rowIds);
    expect(message.row_ids).toEqual(rowIds);
    const delivered = await deliver(createMessageBatch('tiangong-evals', [{ id: 'c1', timestamp: new Date(), attempts: 1, body: message }]));
    expect(delivered.explicitAcks).toEqual(['c1']);
    expect(await count('SELECT count(*) AS n FROM eval_results WHERE run_id = ?', run.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM llm_calls WHERE user_id = ?', u.id)).toBe(0);
    expect((await get(u, `${E}/runs/${run.id}`)).body).toMatchObject({ status: 'cancelled', done: 0, passed: 0, started_at: null });
    expectError(await post(u, `${E}/runs/${run.id}/cancel`), 409, 'CONFLICT');

    const stuck = await open([{ input: 'z' }], [{ type: 'contains', value: 'z' }]);
    const dead = await deliver(createMessageBatch('tiangong-evals-dlq', [{ id: 'd1', timestamp: new Date(), attempts: 1, body: runMessages(stuck.run.id, stuck.rowIds)[0] }]));
    expect(dead.explicitAcks).toEqual(['d1']);
    const failed = (await get(u, `${E}/runs/${stuck.run.id}`)).body;
    expect(failed).toMatchObject({ status: 'failed', done: 0, error: '1 row(s) could not be processed after repeated delivery failures' });
    expect(failed.finished_at).toEqual(expect.any(String));
    expect(await count('SELECT count(*) AS n FROM eval_results WHERE run_id = ?', stuck.run.id)).toBe(0);
    const logs = await env.DB.prepare("SELECT level, source, user_id FROM system_logs WHERE category = 'job' AND data LIKE ?").bind(`%${stuck.run.id}%`).all();
    expect(logs.results).toEqual([{ level: 'error', source: 'queue:tiangong-evals', user_id: u.id }]);
    // A dead letter of an ended run leaves it as it ended.
    await deliver(createMessageBatch('tiangong-evals-dlq', [{ id: 'd2', timestamp: new Date(), attempts: 1, body: message }]));
    expect((await get(u, `${E}/runs/${run.id}`)).body).toMatchObject({ status: 'cancelled', error: null });
  });

  it('validation: unknown scorer, duplicate names, a missing agent version, an empty dataset version', async () => {
    const u = await createUser();
    const agent = await createAgent(u);
    const ds = await createDataset(u, { rows: [{ input: 'x' }] });
    const base = { dataset_id: ds.id, target: { type: 'agent', agent_id: agent.id } };
    expect(expectError(await post(u, `${E}/runs`, { ...base, scorers: [{ type: 'vibes' }] }), 422).message).toContain('body.scorers');
    expect(expectError(await post(u, `${E}/runs`, { ...base, scorers: [{ type: 'exact_match' }, { type: 'exact_match' }] }), 422).message).toContain('exact_match');
    expect(expectError(await post(u, `${E}/runs`, { ...base, target: { ...base.target, version: 7 }, scorers: [{ type: 'exact_match' }] }), 422).message).toContain('version 7');
    expect(expectError(await post(u, `${E}/runs`, { ...base, scorers: [{ type: 'regex', pattern: '(' }] }), 422).message).toContain('regex');
    const empty = await createDataset(u, {});
    expectError(await post(u, `${E}/runs`, { ...base, dataset_id: empty.id, scorers: [{ type: 'exact_match' }] }), 422);
    expectError(await post(u, `${E}/runs`, { ...base, scorers: [{ type: 'exact_match' }], owner_id: 'x' }), 422);
    expectError(await api(`${E}/runs`, { method: 'POST', json: { ...base, scorers: [{ type: 'exact_match' }] } }), 401);
  });
});

describe('compare', () => {
  it('lists exactly the planted regressions between two agent versions, with a seeded interval', async () => {
    const u = await createUser();
    const agent = await createAgent(u, { include_tools: ['calculator'] });
    const rows = [
      ...[1, 2, 3].map(() => ({ input: '/tool calculator {"expression":"6*7"}', expected: '42' })),
      ...Array.from({ length: 7 }, (_, i) => ({ input: `plain ${i}`, expected: `echo: plain ${i}` })),
    ];
    const ds = await createDataset(u, { rows });
    // Version 2 loses the calculator: the tool rows regress.
    const updated = await api(`/api/v1/agents/${agent.id}`, { token: u.token, method: 'PUT', json: { include_tools: [] } });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.version).toBe(2);

    const scorers = [{ type: 'contains' }, { type: 'cost', max_cost: 1 }];
    const base = await startRun(u, { dataset_id: ds.id, target: { type: 'agent', agent_id: agent.id, version: 1 }, scorers });
    const candidate = await startRun(u, { dataset_id: ds.id, target: { type: 'agent', agent_id: agent.id }, scorers });
    expect(candidate.target.version).toBe(2);
    expect((await finished(u, base.id)).passed).toBe(10);
    expect((await finished(u, candidate.id)).passed).toBe(7);

    const url = `${E}/runs/compare?base_run_id=${base.id}&candidate_run_id=${candidate.id}`;
    const cmp = await get(u, url);
    expect(cmp.status, cmp.text).toBe(200);
    expect(cmp.body.paired_rows).toBe(10);
    expect(cmp.body.regressions.map((r: any) => r.position)).toEqual([1, 2, 3]);
    expect(cmp.body.regressions[0]).toMatchObject({ base_output: expect.stringContaining('42'), failed_scorers: ['contains'] });
    expect(cmp.body.improvements).toEqual([]);
    expect(cmp.body.pass_rate).toMatchObject({ base: 1, candidate: 0.7 });
    expect(cmp.body.pass_rate.delta).toBeCloseTo(-0.3, 10);
    expect(cmp.body.pass_rate.ci.low).toBeLessThanOrEqual(cmp.body.pass_rate.delta);
    expect(cmp.body.pass_rate.ci.high).toBeLessThanOrEqual(0);
    const contains = cmp.body.scorers.find((s: any) => s.scorer === 'contains');
    expect(contains).toMatchObject({ base: 1, candidate: 0.7 });
    expect(cmp.body.rows.find((r: any) => r.position === 1).deltas.contains).toBe(-1);
    // Seeded: the same comparison gives the same interval; another seed may not.
    expect((await get(u, url)).body.pass_rate.ci).toEqual(cmp.body.pass_rate.ci);
    expect((await get(u, `${url}&seed=7`)).body.pass_rate.ci.seed).toBe(7);

    const other = await createDataset(u, { rows: [{ input: 'q' }] });
    const elsewhere = await startRun(u, { dataset_id: other.id, target: { type: 'model' }, scorers: [{ type: 'regex', pattern: '.' }] });
    expectError(await get(u, `${E}/runs/compare?base_run_id=${base.id}&candidate_run_id=${elsewhere.id}`), 422);
  });
});

describe('deploy gate', () => {
  it('a deploy below the gate is refused with the score, the threshold and the run; above it goes through', async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u);
    // The mock echoes: three rows of four pass exact_match (0.75).
    const rows = [1, 2, 3].map((i) => ({ input: `q${i}`, expected: `echo: q${i}` }));
    const ds = await createDataset(u, { rows: [...rows, { input: 'q4', expected: 'something else' }] });
    const gatePath = `${E}/gates/${agent.id}`;
    const put = (who: User, body: unknown) => api(gatePath, { token: who.token, method: 'PUT', json: body });

    const set = await put(u, { dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 0.8 });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toMatchObject({ agent_id: agent.id, owner_id: u.id, dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 0.8 });
    expect((await get(u, gatePath)).body).toMatchObject({ dataset_id: ds.id, min_score: 0.8 });

    const refused = expectError(await post(u, `/api/v1/agents/${agent.id}/deploy`), 422, 'EVAL_GATE_FAILED');
    expect(refused.message).toContain('exact_match scored 0.75');
    expect(refused.message).toContain('threshold 0.8');
    const runId = refused.message.match(/eval run ([0-9a-f-]{36})/)![1];
    expect((await get(u, `${E}/runs/${runId}`)).body).toMatchObject({ status: 'completed', total: 4, done: 4, passed: 3, target: { type: 'agent', agent_id: agent.id, version: 1 } });
    expect((await get(u, `/api/v1/agents/${agent.id}`)).body.status).toBe('draft');

    // Lowered to 0.75: the same scores pass, and the deploy ran a second eval run.
    expect((await put(u, { dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 0.75 })).status).toBe(200);
    const deployed = await post(u, `/api/v1/agents/${agent.id}/deploy`);
    expect(deployed.status, deployed.text).toBe(200);
    expect(deployed.body.status).toBe('deployed');
    expect((await get(u, `${E}/runs?dataset_id=${ds.id}`)).body.total).toBe(2);
    // Deployed already: 409 without another eval run.
    expectError(await post(u, `/api/v1/agents/${agent.id}/deploy`), 409);
    expect((await get(u, `${E}/runs?dataset_id=${ds.id}`)).body.total).toBe(2);

    // Someone else can neither see nor set the gate; a gate names a dataset of the caller's.
    expectError(await get(other, gatePath), 404);
    expectError(await put(other, { dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 0 }), 404);
    const mine = await createAgent(other);
    expectError(await api(`${E}/gates/${mine.id}`, { token: other.token, method: 'PUT', json: { dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 0 } }), 404);
    expectError(await put(u, { dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 2 }), 422);

    expect((await api(gatePath, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expectError(await get(u, gatePath), 404, 'NOT_FOUND');
    // Without a gate, a deploy runs no eval.
    expect((await post(u, `/api/v1/agents/${agent.id}/stop`)).status).toBe(200);
    expect((await post(u, `/api/v1/agents/${agent.id}/deploy`)).status).toBe(200);
    expect((await get(u, `${E}/runs?dataset_id=${ds.id}`)).body.total).toBe(2);

    // A gate goes with its dataset, and with its agent.
    expect((await put(u, { dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 0 })).status).toBe(200);
    expect((await api(`${E}/datasets/${ds.id}`, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expectError(await get(u, gatePath), 404);
    const ds2 = await createDataset(u, { rows });
    expect((await put(u, { dataset_id: ds2.id, scorer: { type: 'exact_match' }, min_score: 0 })).status).toBe(200);
    expect((await api(`/api/v1/agents/${agent.id}`, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expect(await count('SELECT count(*) AS n FROM eval_gates WHERE agent_id = ?', agent.id)).toBe(0);
  });
});

describe('workflow deploy gate', () => {
  const greeter = (nodeId: string, template: string) => chain([{ id: nodeId, type: 'template', config: { template } }], { output: `{{${nodeId}.text}}` });

  it('a new version below the gate is refused before it is saved; above it (a PUT, a rollback) it is saved', async () => {
    const u = await createUser();
    const other = await createUser();
    const wf = await createWorkflow(u.token, greeter('t', 'Hello {{inputs.input}}'));
    // Three rows of four pass exact_match against "Hello <input>" (0.75).
    const rows = [1, 2, 3].map((i) => ({ input: `q${i}`, expected: `Hello q${i}` }));
    const ds = await createDataset(u, { rows: [...rows, { input: 'q4', expected: 'something else' }] });
    const gatePath = `${E}/gates/workflows/${wf.id}`;
    const set = await api(gatePath, { token: u.token, method: 'PUT', json: { dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 0.75 } });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toMatchObject({ workflow_id: wf.id, owner_id: u.id, dataset_id: ds.id, min_score: 0.75 });
    expect((await get(u, gatePath)).body).toMatchObject({ workflow_id: wf.id });
    expectError(await get(other, gatePath), 404);
    const runs = async () => (await get(u, `${E}/runs?dataset_id=${ds.id}`)).body.total;

    // A candidate that greets differently scores 0: refused, nothing saved.
    const put = (body: Record<string, unknown>) => api(`/api/v1/workflows/${wf.id}`, { token: u.token, method: 'PUT', json: body });
    const refused = expectError(await put({ graph: greeter('t', 'Bye {{inputs.input}}') }), 422, 'EVAL_GATE_FAILED');
    expect(refused.message).toContain('refused version 2: exact_match scored 0 ');
    expect(refused.message).toContain('threshold 0.75');
    const runId = refused.message.match(/eval run ([0-9a-f-]{36})/)![1];
    expect((await get(u, `${E}/runs/${runId}`)).body).toMatchObject({ status: 'completed', total: 4, passed: 0, target: { type: 'workflow', workflow_id: wf.id } });
    expect((await get(u, `/api/v1/workflows/${wf.id}`)).body.version).toBe(1);

    // A candidate answering the same passes (0.75): version 2 is saved.
    const saved = await put({ graph: greeter('t2', 'Hello {{inputs.input}}') });
    expect(saved.status, saved.text).toBe(200);
    expect(saved.body.version).toBe(2);
    expect(await runs()).toBe(2);
    // A change that leaves the graph and inputs as they are runs no eval.
    expect((await put({ name: 'renamed' })).status).toBe(200);
    expect(await runs()).toBe(2);

    // A rollback is a new version too: gated.
    expect((await api(gatePath, { token: u.token, method: 'PUT', json: { dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 0.8 } })).status).toBe(200);
    expectError(await post(u, `/api/v1/workflows/${wf.id}/versions/1/rollback`), 422, 'EVAL_GATE_FAILED');
    expect(await runs()).toBe(3);
    expect((await api(gatePath, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expectError(await get(u, gatePath), 404, 'NOT_FOUND');
    const rolled = await post(u, `/api/v1/workflows/${wf.id}/versions/1/rollback`);
    expect(rolled.status, rolled.text).toBe(200);
    expect(await runs()).toBe(3);

    // The agent gates are untouched by workflow gates; a gate goes with its workflow.
    expect((await api(gatePath, { token: u.token, method: 'PUT', json: { dataset_id: ds.id, scorer: { type: 'exact_match' }, min_score: 0 } })).status).toBe(200);
    expect((await api(`/api/v1/workflows/${wf.id}`, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expect(await count('SELECT count(*) AS n FROM eval_workflow_gates WHERE workflow_id = ?', wf.id)).toBe(0);
  });
});

describe('owner scoping', () => {
  it("another user's datasets and runs answer 404 and are not listed", async () => {
    const u = await createUser();
    const other = await createUser();
    const agent = await createAgent(u);
    const ds = await createDataset(u, { rows: [{ input: 'x', expected: 'echo: x' }] });
    const run = await startRun(u, { dataset_id: ds.id, target: { type: 'agent', agent_id: agent.id }, scorers: [{ type: 'exact_match' }] });
    await finished(u, run.id);

    for (const path of [`/datasets/${ds.id}`, `/datasets/${ds.id}/rows`, `/runs/${run.id}`, `/runs/${run.id}/results`, `/runs/${run.id}/events`, `/runs/compare?base_run_id=${run.id}&candidate_run_id=${run.id}`]) {
      expectError(await get(other, E + path), 404, 'NOT_FOUND');
    }
    expectError(await post(other, `${E}/datasets/${ds.id}/rows`, { rows: [{ input: 'y' }] }), 404);
    expectError(await post(other, `${E}/runs/${run.id}/cancel`), 404);
    expectError(await api(`${E}/datasets/${ds.id}`, { token: other.token, method: 'DELETE' }), 404);
    // Their own dataset over your agent: the agent is not theirs to run.
    const theirs = await createDataset(other, { rows: [{ input: 'x' }] });
    expectError(await post(other, `${E}/runs`, { dataset_id: theirs.id, target: { type: 'agent', agent_id: agent.id }, scorers: [{ type: 'exact_match' }] }), 404);
    expectError(await post(other, `${E}/runs`, { dataset_id: ds.id, target: { type: 'model' }, scorers: [{ type: 'exact_match' }] }), 404);
    expect((await get(other, `${E}/datasets`)).body).toMatchObject({ total: 1, items: [{ id: theirs.id }] });
    expect((await get(other, `${E}/runs`)).body.total).toBe(0);
    expect((await get(u, `${E}/runs?dataset_id=${ds.id}`)).body).toMatchObject({ total: 1, page: 1, page_size: 20 });

    // The owner deletes the dataset: its runs and results go with it.
    expect((await api(`${E}/datasets/${ds.id}`, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expect(await count('SELECT count(*) AS n FROM eval_results WHERE run_id = ?', run.id)).toBe(0);
    expectError(await get(u, `${E}/runs/${run.id}`), 404);
  });
});

describe('scorers', () => {
  const row = (o: Partial<RowOutcome>): RowOutcome => ({ input: 'q', expected: null, output: '', tool_calls: [], latency_ms: 10, cost: 0.5, ...o });
  const noJudge = async () => ({ score: 0, reason: '' });
  it('each scorer scores by its rule', async () => {
    const s = (spec: any, o: Partial<RowOutcome>) => score(spec, row(o), noJudge);
    expect((await s({ type: 'json_schema', schema: { type: 'object', required: ['a'] } }, { output: 'here: {"a": 1}' })).passed).toBe(true);
    expect((await s({ type: 'json_schema', schema: { type: 'object', required: ['a'] } }, { output: '{"b": 1}' })).detail).toContain('output.a');
    expect((await s({ type: 'numeric', tolerance: 0.01 }, { output: 'about 3.141', expected: 3.14 })).passed).toBe(true);
    expect((await s({ type: 'numeric', tolerance: 0.1, relative: true }, { output: '120', expected: '100' })).passed).toBe(false);
    const close = await s({ type: 'semantic_similarity', threshold: 0.5 }, { output: 'the quick brown fox', expected: 'the quick brown fox jumps' });
    const far = await s({ type: 'semantic_similarity', threshold: 0.5 }, { output: 'zzz', expected: 'the quick brown fox jumps' });
    expect(close.passed && close.score > far.score && !far.passed).toBe(true);
    const calls = [{ name: 'calculator', arguments: { expression: '6*7', precision: 3 } }];
    expect((await s({ type: 'tool_call' }, { tool_calls: calls, expected: { tool_call: { name: 'calculator', arguments: { expression: '6*7' } } } })).passed).toBe(true);
    expect((await s({ type: 'tool_call', tool: 'calculator', arguments: { expression: '1' } }, { tool_calls: calls })).passed).toBe(false);
    expect((await s({ type: 'latency', max_ms: 5 }, {})).passed).toBe(false);
    expect((await s({ type: 'cost', max_cost: 0.5 }, {})).passed).toBe(true);
    expect((await s({ type: 'regex', pattern: '^ECHO', flags: 'i' }, { output: 'echo: x' })).passed).toBe(true);
    expect((await s({ type: 'exact_match' }, { output: 'x' })).detail).toBe('the row has no expected answer');
  });

  it('the bootstrap interval is deterministic for a seed', () => {
    const xs = [0, -1, 0, 0, -1, 0, 1, 0, 0, -1];
    expect(bootstrapMeanInterval(xs, { seed: 1 })).toEqual(bootstrapMeanInterval(xs, { seed: 1 }));
    const ci = bootstrapMeanInterval(xs, { seed: 1 });
    expect(ci.low).toBeLessThanOrEqual(-0.2);
    expect(ci.high).toBeGreaterThanOrEqual(-0.2);
  });
});
