import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { consumeTraceBatch } from '../../../src/modules/governance/monitoring/traces-queue';
import type { TraceSpan } from '../../../src/queues';
import { describe, expect, it } from 'vitest';
import { delegationToolName } from '../../../src/runs/agents';
import { traceDestinations } from '../../../src/runs/traces';
import { api, createUser, expectError } from '../../support/helpers';
import { createAgent, eventually, type User } from '../../support/goal-helpers';
import { chain, run, waitFor } from '../../support/wf-helpers';

// OpenTelemetry traces (docs/traces.md): spans of agent turns, model and tool calls and workflow
// runs reach a local OTLP/HTTP receiver (test/support/fakes/otlp.ts) through the traces queue.

const EXPORTER = '/api/v1/monitoring/traces/exporter';
const SECRET = 'Bearer collector-secret-value-42';

type OtlpValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number; arrayValue?: { values: OtlpValue[] } };
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
  attrs: Record<string, unknown>;
}

const plain = (v: OtlpValue): unknown =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue ?? v.arrayValue?.values.map(plain);

/** Every span the receiver got for `key`, decoded from the OTLP JSON requests, with the requests. */
async function received(key: string) {
  const requests = (await (await fetch(`${env.FAKE_BASE_URL}/otlp/${key}`)).json()) as Array<{ headers: Record<string, string>; body: any }>;
  const spans: Span[] = [];
  for (const r of requests) {
    for (const rs of r.body.resourceSpans) {
      expect(rs.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'tiangong' } });
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) spans.push({ ...s, parentSpanId: s.parentSpanId || undefined, attrs: Object.fromEntries(s.attributes.map((a: { key: string; value: OtlpValue }) => [a.key, plain(a.value)])) });
      }
    }
  }
  return { requests, spans };
}

const waitForSpans = (key: string, check: (spans: Span[]) => boolean) => eventually(() => received(key), (r) => check(r.spans), 20_000);

async function setExporter(u: User, key: string, extra: Record<string, unknown> = {}) {
  const res = await api(EXPORTER, { token: u.token, method: 'PUT', json: { endpoint: `${env.FAKE_BASE_URL}/otlp/${key}/v1/traces`, headers: { authorization: SECRET }, ...extra } });
  expect(res.status, res.text).toBe(200);
  return res;
}

const chat = (u: User, agentId: string, message: string) => api(`/api/v1/agent-chat/${agentId}`, { token: u.token, json: { message } });

describe('trace exporter settings', () => {
  it('stores the headers encrypted and reads them back masked; 404 without one', async () => {
    const u = await createUser();
    expectError(await api(EXPORTER, { token: u.token }), 404, 'NOT_FOUND');
    const put = await setExporter(u, 'settings');
    expect(put.body).toMatchObject({ endpoint: `${env.FAKE_BASE_URL}/otlp/settings/v1/traces`, include_content: false, enabled: true, platform_export: false });
    expect(put.text).not.toContain('collector-secret');
    expect(Object.keys(put.body.headers)).toEqual(['authorization']);
    const stored = await env.DB.prepare('SELECT headers FROM trace_exporters WHERE user_id = ?').bind(u.id).first<{ headers: string }>();
    expect(stored!.headers).not.toContain('collector-secret');
    // Omitted headers are kept.
    const again = await api(EXPORTER, { token: u.token, method: 'PUT', json: { endpoint: `${env.FAKE_BASE_URL}/otlp/settings/v1/traces`, include_content: true } });
    expect(again.body).toMatchObject({ include_content: true, headers: put.body.headers });
    expect((await api(EXPORTER, { token: u.token })).body).toMatchObject({ include_content: true });
    expect((await api(EXPORTER, { token: u.token, method: 'DELETE' })).status).toBe(204);
    expectError(await api(EXPORTER, { token: u.token, method: 'DELETE' }), 404, 'NOT_FOUND');
  });

  it('refuses private destinations and unknown fields', async () => {
    const u = await createUser();
    expectError(await api(EXPORTER, { token: u.token, method: 'PUT', json: { endpoint: 'http://169.254.169.254/v1/traces' } }), 400, 'SSRF_BLOCKED');
    expectError(await api(EXPORTER, { token: u.token, method: 'PUT', json: { endpoint: `${env.FAKE_BASE_URL}/otlp/x/v1/traces`, api_key: 'k' } }), 422);
  });
});

describe('spans over OTLP/HTTP', () => {
  it('a chat turn with a tool call: turn, model calls and tool call with parent links and token counts, no secret', async () => {
    const u = await createUser();
    const key = `chat-${crypto.randomUUID()}`;
    await setExporter(u, key);
    const agent = await createAgent(u, { name: 'Tracer', include_tools: ['calculator'] });
    const res = await chat(u, agent.id, '/tool calculator {"expression":"6*7"}');
    expect(res.status, res.text).toBe(200);

    const { requests, spans } = await waitForSpans(key, (s) => s.length >= 4);
    expect(spans).toHaveLength(4);
    // The collector's header arrived with the request, not in any span.
    expect(requests[0].headers.authorization).toBe(SECRET);
    expect(requests[0].headers['content-type']).toBe('application/json');
    expect(JSON.stringify(requests.map((r) => r.body))).not.toContain('collector-secret');

    const turn = spans.find((s) => s.attrs['gen_ai.operation.name'] === 'invoke_agent')!;
    expect(turn).toMatchObject({ name: 'invoke_agent Tracer', parentSpanId: undefined });
    expect(turn.attrs).toMatchObject({ 'gen_ai.agent.id': agent.id, 'gen_ai.agent.name': 'Tracer', 'gen_ai.conversation.id': res.body.session_id, 'gen_ai.provider.name': 'mock', 'tiangong.source': 'chat' });
    const models = spans.filter((s) => s.attrs['gen_ai.operation.name'] === 'chat');
    const tool = spans.find((s) => s.attrs['gen_ai.operation.name'] === 'execute_tool')!;
    expect(models).toHaveLength(2);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    for (const s of [...models, tool]) expect(s.parentSpanId).toBe(turn.spanId);
    expect(tool).toMatchObject({ name: 'execute_tool calculator', kind: 1 });
    expect(tool.attrs).toMatchObject({ 'gen_ai.tool.name': 'calculator', 'gen_ai.tool.call.id': res.body.tool_calls[0].id });
    for (const m of models) {
      expect(m.kind).toBe(3); // CLIENT
      expect(m.attrs).toMatchObject({ 'gen_ai.provider.name': 'mock', 'gen_ai.system': 'mock', 'gen_ai.request.model': expect.any(String) });
      expect(m.attrs['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(m.attrs['gen_ai.usage.output_tokens']).toBeGreaterThanOrEqual(0);
    }
    expect(models.map((m) => m.attrs['gen_ai.response.finish_reasons'])).toEqual(expect.arrayContaining([['tool_calls'], ['stop']]));
    // The turn's usage is the sum of its model calls, as the API answered it.
    const sum = (k: string) => models.reduce((n, m) => n + (m.attrs[k] as number), 0);
    expect(turn.attrs['gen_ai.usage.input_tokens']).toBe(sum('gen_ai.usage.input_tokens'));
    expect(turn.attrs['gen_ai.usage.input_tokens'] as number + (turn.attrs['gen_ai.usage.output_tokens'] as number)).toBe(res.body.token_usage.total_tokens);
    // Contents are off by default: no prompt, answer, argument or result.
    const attrText = JSON.stringify(spans.map((s) => s.attrs));
    expect(attrText).not.toContain('6*7');
    expect(attrText).not.toContain('gen_ai.input.messages');
    expect(attrText).not.toContain('gen_ai.tool.call.result');
  });

  it('with include_content, prompts and tool arguments are recorded; a delegated turn nests under its tool call', async () => {
    const u = await createUser();
    const key = `nested-${crypto.randomUUID()}`;
    await setExporter(u, key, { include_content: true });
    const sub = await createAgent(u, { name: 'Researcher' });
    const main = await createAgent(u, { name: 'Main' });
    expect((await api(`/api/v1/agents/${main.id}/create-main-agent`, { token: u.token, json: { sub_agent_ids: [sub.id] } })).status).toBe(200);
    const res = await chat(u, main.id, `/tool ${delegationToolName(sub.id)} {"task":"find facts"}`);
    expect(res.status, res.text).toBe(200);

    // The main turn, its two model calls and its tool call; the sub-agent's turn and model call.
    const { spans } = await waitForSpans(key, (s) => s.length >= 6);
    expect(spans).toHaveLength(6);
    const turns = spans.filter((s) => s.attrs['gen_ai.operation.name'] === 'invoke_agent');
    const root = turns.find((t) => !t.parentSpanId)!;
    const nested = turns.find((t) => t.parentSpanId)!;
    const tool = spans.find((s) => s.attrs['gen_ai.operation.name'] === 'execute_tool')!;
    expect(root.attrs['gen_ai.agent.id']).toBe(main.id);
    expect(nested.attrs).toMatchObject({ 'gen_ai.agent.id': sub.id, 'tiangong.source': 'delegate' });
    expect(tool.parentSpanId).toBe(root.spanId);
    expect(nested.parentSpanId).toBe(tool.spanId);
    const nestedModel = spans.find((s) => s.parentSpanId === nested.spanId)!;
    expect(nestedModel.attrs['gen_ai.operation.name']).toBe('chat');
    expect(JSON.parse(nestedModel.attrs['gen_ai.input.messages'] as string)).toContainEqual(expect.objectContaining({ role: 'user', content: 'find facts' }));
    expect(JSON.parse(tool.attrs['gen_ai.tool.call.arguments'] as string)).toEqual({ task: 'find facts' });
    expect(JSON.parse(tool.attrs['gen_ai.tool.call.result'] as string)).toMatchObject({ agent_id: sub.id, reply: 'echo: find facts' });
  });

  it('a workflow run: the run span and a child per node that ran', async () => {
    const u = await createUser();
    const key = `wf-${crypto.randomUUID()}`;
    await setExporter(u, key);
    const { wf, body } = await run(u.token, chain([]), {});
    const done = await waitFor(u.token, body.id, (e) => e.status === 'succeeded', 20_000);
    const { spans } = await waitForSpans(key, (s) => s.length >= 3);
    expect(spans).toHaveLength(3);
    const root = spans.find((s) => s.attrs['gen_ai.operation.name'] === 'invoke_workflow')!;
    expect(root.parentSpanId).toBeUndefined();
    expect(root.attrs).toMatchObject({ 'gen_ai.workflow.name': wf.id, 'tiangong.workflow.id': wf.id, 'tiangong.execution.id': done.id, 'tiangong.execution.status': 'succeeded' });
    const nodes = spans.filter((s) => s !== root);
    expect(nodes.map((n) => n.attrs['tiangong.node.id']).sort()).toEqual(['end', 'start']);
    for (const n of nodes) expect(n.parentSpanId).toBe(root.spanId);
  });

  it('nothing is collected for a user without an exporter (and no platform collector)', async () => {
    const u = await createUser();
    expect(await traceDestinations(env, u.id)).toBeNull();
    await setExporter(u, 'dest', { enabled: false });
    expect(await traceDestinations(env, u.id)).toBeNull();
    await setExporter(u, 'dest');
    expect(await traceDestinations(env, u.id)).toEqual({ platform: null, user: { includeContent: false } });
  });
});

describe('the traces consumer', () => {
  const span = (name: string): TraceSpan => ({ trace_id: 'a'.repeat(32), span_id: crypto.randomUUID().replace(/-/g, '').slice(0, 16), name, kind: 'internal', start_ms: 1_700_000_000_000, end_ms: 1_700_000_000_250, attributes: { 'gen_ai.operation.name': 'chat' }, status: 'ok' });
  const deliver = async (e: typeof env, messages: Array<{ id: string; body: unknown }>) => {
    const batch = createMessageBatch('tiangong-traces', messages.map((m) => ({ ...m, timestamp: new Date(), attempts: 1 })));
    const ctx = createExecutionContext();
    await consumeTraceBatch(batch, e);
    return getQueueResult(batch, ctx);
  };

  it("sends the platform's spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces with OTEL_EXPORTER_OTLP_HEADERS, one request per destination", async () => {
    const key = `platform-${crypto.randomUUID()}`;
    const platformEnv = { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `${env.FAKE_BASE_URL}/otlp/${key}`, OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20def,x-team=t1' };
    const result = await deliver(platformEnv, [
      { id: 'p1', body: { destination: 'platform', user_id: 'u1', spans: [span('one')] } },
      { id: 'p2', body: { destination: 'platform', user_id: 'u2', spans: [span('two'), span('three')] } },
      { id: 'p3', body: { destination: 'user', user_id: 'nobody', spans: [span('dropped')] } },
      { id: 'p4', body: { nope: true } },
    ]);
    expect(result.explicitAcks.sort()).toEqual(['p1', 'p2', 'p3', 'p4']);
    const { requests, spans } = await received(key);
    expect(requests).toHaveLength(1);
    expect(requests[0].headers).toMatchObject({ 'x-api-key': 'abc def', 'x-team': 't1' });
    expect(spans.map((s) => s.name).sort()).toEqual(['one', 'three', 'two']);
    expect(spans[0]).toMatchObject({ traceId: 'a'.repeat(32), startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000250000000' });
  });

  it('a collector that fails gets the messages retried (and a warn line in the system log)', async () => {
    const key = `down-${crypto.randomUUID()}`;
    const downEnv = { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `${env.FAKE_BASE_URL}/otlp/${key}?status=503` };
    const result = await deliver(downEnv, [{ id: 'r1', body: { destination: 'platform', user_id: 'u1', spans: [span('lost?')] } }]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(['r1']);
    expect((await received(key)).requests).toHaveLength(0);
    const line = await env.DB.prepare("SELECT level, message FROM system_logs WHERE source = 'queue:tiangong-traces' ORDER BY created_at DESC LIMIT 1").first<{ level: string; message: string }>();
    expect(line).toMatchObject({ level: 'warn' });
    expect(line!.message).toContain('collector answered 503');
  });
});
