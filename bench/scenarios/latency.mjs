import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { api as call, newUser } from '../client.mjs';
import { BUILD_DIR, median, parseRoundTrips, startPlatform, workerdCpuMs } from '../harness.mjs';

/**
 * Issue 19, part 1: distance (docs/operations/latency.md). The built worker is served behind
 * bench/rtt-entry.mjs, which delays each of its D1 and Durable Object calls by a round-trip time
 * and counts them per request. For each hot route, one client at a time: the D1 calls, the Durable
 * Object calls and the sequential round trips on the critical path (exact, from the
 * X-Bench-Round-Trips header), p50 latency with no distance and at BENCH_RTT_MS (default 50 ms),
 * what the difference says in round trips, for routes that call a Durable Object the same with the
 * objects' own D1 calls at the distance too (X-Bench-Rtt-Objects), and workerd CPU ms per request
 * (the production path: X-Bench-Direct, no wrapper). BENCH_LATENCY_REQUESTS sets the requests per figure (default 30);
 * BENCH_RTT_TRACE=1 prints each traced request's calls in order (SQL prefixes); BENCH_LATENCY_ONLY=chat
 * keeps the routes whose name contains it. A chat row with a
 * model that takes its time (an OpenAI-compatible server here answering its first token after
 * BENCH_MODEL_TTFT_MS, default 200 ms) shows what overlaps with the model's own latency.
 */
export default async function latency(ctx) {
  const far = Number(process.env.BENCH_RTT_MS ?? 50);
  const n = Number(process.env.BENCH_LATENCY_REQUESTS ?? 30);
  const trace = process.env.BENCH_RTT_TRACE === '1';
  const ttft = Number(process.env.BENCH_MODEL_TTFT_MS ?? 200);
  const model = await slowModel(ttft);
  // Traced here one request per route (X-Bench-Trace), not every request.
  const p = await startPlatform(join(BUILD_DIR, 'index.js'), { rttMs: 0, runtime: false, bindings: { BENCH_RTT_TRACE: '0', OUTBOUND_ALLOWED_HOSTS: model.host } });
  try {
    await run(ctx, p.url, { far, n, trace, model, ttft });
  } finally {
    await p.mf.dispose();
    model.server.close();
  }
}

/** An OpenAI-compatible chat model on localhost whose streamed answer starts after `ttft` ms. */
async function slowModel(ttft) {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const part of req) body += part;
    await new Promise((r) => setTimeout(r, ttft));
    const pieces = ['The edge ', 'is near ', 'its users.'];
    const usage = { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 };
    if (!JSON.parse(body).stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: pieces.join('') }, finish_reason: 'stop' }], usage }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (o) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    for (const text of pieces) chunk({ choices: [{ delta: { content: text }, finish_reason: null }] });
    chunk({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    chunk({ choices: [], usage });
    res.end('data: [DONE]\n\n');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${server.address().port}`;
  return { server, host, baseUrl: `http://${host}/v1` };
}

async function run(ctx, base, { far, n, trace, model, ttft }) {
  const setup = { api: (path, init) => call(base, path, init) };
  const user = await newUser(setup, 'latency');
  const token = user.token;
  const req = (path, init = {}) => call(base, path, { token, ...init });
  const apiKey = (await req('/api/v1/api-keys', { json: { name: 'latency bench' } })).key;
  const agent = await req('/api/v1/agents', {
    json: { name: 'latency agent', system_prompt: 'You are a helpful assistant.', model_config: { provider: 'mock', model_name: 'mock-1' } },
  });
  await req(`/api/v1/agents/${agent.id}/deploy`, { method: 'POST' });
  // A 1-node workflow (start → template → end) run through its webhook. A workflow accepts 60
  // webhook requests a minute: the requests go round-robin over enough copies.
  const graph = {
    nodes: [{ id: 'start', type: 'start' }, { id: 'greet', type: 'template', config: { template: 'Hello {{inputs.name}}' } }, { id: 'end', type: 'end', config: { outputs: { greeting: '{{greet.text}}' } } }],
    edges: [{ source: 'start', target: 'greet' }, { source: 'greet', target: 'end' }],
  };
  const hooks = [];
  for (let i = 0; i < Math.ceil((3 * n + 10) / 50); i++) {
    const wf = await req('/api/v1/workflows', { json: { name: `latency-webhook-${i}`, graph } });
    const enabled = await req(`/api/v1/workflows/${wf.id}`, { method: 'PUT', json: { webhook_enabled: true } });
    hooks.push({ id: wf.id, secret: enabled.webhook.secret });
  }
  const kb = await req('/api/v1/knowledge-bases', { json: { name: 'latency kb' } });
  for (let i = 0; i < 3; i++) {
    await req(`/api/v1/knowledge-bases/${kb.id}/documents`, {
      json: { title: `edge ${i}`, content: `The edge network runs code near users. Document ${i} talks about latency, replicas and round trips. `.repeat(5) },
    });
  }
  for (let t = 0; t < 300; t++) {
    const s = (await req(`/api/v1/knowledge-bases/${kb.id}`)).documents_by_status;
    if (s.ready === 3 || s.failed) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const session = (await req(`/api/v1/agent-chat/${agent.id}`, { json: { message: 'start' } })).session_id;
  const slowConfig = await req('/api/v1/model-configs', { json: { name: 'bench slow model', provider: 'openai', model_name: 'bench-slow', base_url: model.baseUrl, api_key: 'sk-bench' } });
  const slowAgent = await req('/api/v1/agents', { json: { name: 'latency agent, slow model', model_config: { model_config_id: slowConfig.id } } });
  const slowSession = (await req(`/api/v1/agent-chat/${slowAgent.id}`, { json: { message: 'start' } })).session_id;

  const bearer = (t = token) => ({ Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' });
  const get = (path) => () => [path, { headers: bearer() }];
  const post = (path, json, t) => () => [path, { method: 'POST', headers: bearer(t), body: JSON.stringify(typeof json === 'function' ? json() : json) }];
  const chatBody = (extra = {}) => ({ message: 'tell me something about the edge', ...extra });
  let hook = 0;
  const webhook = () => {
    const h = hooks[hook % hooks.length];
    // Each signature is accepted once: no two bodies alike.
    const body = JSON.stringify({ name: 'Ada', request: hook++ });
    const ts = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', h.secret).update(`${ts}.${body}`).digest('hex');
    return [`/api/v1/webhooks/workflows/${h.id}?wait=true`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', 'X-Tiangong-Timestamp': String(ts), 'X-Tiangong-Signature': `sha256=${signature}` },
    }];
  };
  const mcpHeaders = { ...bearer(apiKey), Accept: 'application/json, text/event-stream' };
  let rpcId = 0;

  const routes = [
    ['GET /auth/me', get('/api/v1/auth/me')],
    ['GET /agents/{id}', get(`/api/v1/agents/${agent.id}`)],
    ['GET /agents', get('/api/v1/agents')],
    ['GET /workflows/{id}', get(`/api/v1/workflows/${hooks[0].id}`)],
    ['POST /agent-chat/{id} (existing session)', post(`/api/v1/agent-chat/${agent.id}`, chatBody({ session_id: session }))],
    ['POST /agent-chat/{id}/stream (existing session)', post(`/api/v1/agent-chat/${agent.id}/stream`, chatBody({ session_id: session })), { stream: true }],
    [`POST /agent-chat/{id}/stream (existing session, model's first token after ${ttft} ms)`, post(`/api/v1/agent-chat/${slowAgent.id}/stream`, chatBody({ session_id: slowSession })), { stream: true }],
    ['POST /agent-chat/{id} (new session)', post(`/api/v1/agent-chat/${agent.id}`, chatBody())],
    ['POST /agent-chat/{id}/stream (new session)', post(`/api/v1/agent-chat/${agent.id}/stream`, chatBody()), { stream: true }],
    ['POST /webhooks/workflows/{id}?wait=true (1 node)', webhook],
    ['POST /tools/calculator/use', post('/api/v1/tools/calculator/use', { arguments: { expression: '2 * (3 + 4)' } })],
    ['POST /knowledge-bases/{id}/search', post(`/api/v1/knowledge-bases/${kb.id}/search`, { query: 'latency near users', top_k: 5 })],
    ['POST /openai/chat/completions', post('/api/v1/openai/chat/completions', { model: agent.id, messages: [{ role: 'user', content: 'Hello' }] }, apiKey)],
    ['POST /mcp tools/call (agent tool)', () => [
      '/api/v1/mcp',
      { method: 'POST', headers: mcpHeaders, body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method: 'tools/call', params: { name: `agent_${agent.id.replace(/-/g, '')}`, arguments: { message: 'Hello' } } }) },
    ]],
  ];

  // One request: status, counts, time to the first body chunk and to the end.
  async function once(makeRequest, headers) {
    const [path, init] = makeRequest();
    const t = performance.now();
    const res = await fetch(base + path, { ...init, headers: { ...init.headers, ...headers } });
    let first = null;
    let text = '';
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (first === null && text.includes('event: token')) first = performance.now() - t;
    }
    return { status: res.status, ms: performance.now() - t, first, counts: parseRoundTrips(res.headers.get('x-bench-round-trips')), trace: res.headers.get('x-bench-trace') };
  }

  async function series(makeRequest, headers) {
    const results = [];
    for (let i = 0; i < n; i++) results.push(await once(makeRequest, headers));
    return results;
  }

  const floorRuns = [];
  for (let i = 0; i < n + 5; i++) {
    const t = performance.now();
    await (await fetch(ctx.helloUrl + '/')).arrayBuffer();
    if (i >= 5) floorRuns.push(performance.now() - t);
  }
  ctx.print(`round-trip time ${far} ms; one client, ${n} requests per figure; floor (bare "hello" worker) p50 ${median(floorRuns).toFixed(2)} ms\n`);

  const fmt = (ms) => (ms === null || Number.isNaN(ms) ? '–' : `${ms.toFixed(1)} ms`);
  const rows = [];
  const traces = [];
  const only = process.env.BENCH_LATENCY_ONLY;
  for (const [name, makeRequest, opts = {}] of routes) {
    if (only && !name.includes(only)) continue;
    try {
      for (let i = 0; i < 3; i++) await once(makeRequest, { 'X-Bench-Rtt-Ms': '0' }); // warm-up
      const near = await series(makeRequest, { 'X-Bench-Rtt-Ms': '0' });
      const distant = await series(makeRequest, { 'X-Bench-Rtt-Ms': String(far) });
      // Routes that call a Durable Object: again with the objects' own D1 calls at the distance.
      const objects = distant.some((r) => r.counts?.do > 0) ? await series(makeRequest, { 'X-Bench-Rtt-Ms': String(far), 'X-Bench-Rtt-Objects': '1' }) : null;
      const failed = [...near, ...distant, ...(objects ?? [])].find((r) => r.status >= 400);
      if (failed) {
        rows.push([name, `status ${failed.status}`, '', '', '', '', '', '', '']);
        continue;
      }
      // CPU of the production code path (no wrapper), per request.
      const cpuBefore = workerdCpuMs();
      for (let i = 0; i < n; i++) await once(makeRequest, { 'X-Bench-Direct': '1' });
      const cpu = (workerdCpuMs() - cpuBefore) / n;
      const figure = (key) => {
        const values = [...new Set(distant.map((r) => r.counts?.[key]))].sort((a, b) => a - b);
        return values.length === 1 ? String(values[0]) : `${values[0]}–${values[values.length - 1]}`;
      };
      const p = (results, key = 'ms') => (results ? median(results.map((r) => r[key] ?? NaN)) : null);
      const rts = (at, at0) => ((at - at0) / far).toFixed(1);
      const base = [figure('d1'), figure('seq'), figure('do')];
      const timing = (key) => [fmt(p(near, key)), fmt(p(distant, key)), rts(p(distant, key), p(near, key)), objects ? `${fmt(p(objects, key))} (${rts(p(objects, key), p(near, key))})` : '–'];
      if (opts.stream) {
        rows.push([`${name}: first token`, ...base, ...timing('first'), cpu.toFixed(1)]);
        rows.push([`${name}: whole`, '', '', '', ...timing('ms'), '']);
      } else {
        rows.push([name, ...base, ...timing('ms'), cpu.toFixed(1)]);
      }
      if (trace) {
        const traced = await once(makeRequest, { 'X-Bench-Rtt-Ms': '0', 'X-Bench-Trace': '1' });
        traces.push(`${name} (${Object.entries(traced.counts ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')}):\n  ${decodeURIComponent(traced.trace ?? '').split('\n').join('\n  ')}`);
      }
    } catch (e) {
      rows.push([name, `error: ${e.message.slice(0, 80)}`, '', '', '', '', '', '', '']);
    }
  }

  ctx.print(`| route | D1 calls | sequential RTs | DO calls | p50 @0 | p50 @${far} | (p50 @${far} − p50 @0) / ${far} | p50 @${far}, objects' D1 far too (RTs) | CPU ms/req |`);
  ctx.print('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) ctx.print(`| ${row.join(' | ')} |`);
  if (traces.length) ctx.print(`\nCalls in order (depth in the chain, kind, SQL prefix or method):\n${traces.join('\n')}`);
}
