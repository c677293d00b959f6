import { median } from '../harness.mjs';
import { newUser } from '../client.mjs';

/**
 * Issue 4, with the mock model: time to the first `token` event through /agent-chat/{id}/stream,
 * a whole non-streaming turn, and turns per second on one session (turns are serialised in its
 * Durable Object) and spread over 50 sessions.
 */
export default async function agentChat(ctx) {
  const user = await newUser(ctx, 'chat');
  const headers = { Authorization: `Bearer ${user.token}`, 'Content-Type': 'application/json' };
  const agent = await ctx.api('/api/v1/agents', {
    token: user.token,
    json: { name: 'bench chat', system_prompt: 'You are a helpful assistant.', model_config: { provider: 'mock', model_name: 'mock-1' } },
  });
  await ctx.api(`/api/v1/agents/${agent.id}/deploy`, { method: 'POST', token: user.token });
  const chatUrl = `${ctx.url}/api/v1/agent-chat/${agent.id}`;
  const body = (extra = {}) => JSON.stringify({ message: 'tell me something about the edge', ...extra });

  // Time to first token: one client at a time, a new session per request.
  const ttft = [];
  const whole = [];
  for (let i = 0; i < 220; i++) {
    const t = performance.now();
    const res = await fetch(chatUrl + '/stream', { method: 'POST', headers, body: body() });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let first = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (first === null && text.includes('event: token')) first = performance.now() - t;
    }
    if (first === null || !text.includes('event: done')) throw new Error(`stream without tokens or done: ${text.slice(0, 200)}`);
    if (i >= 20) {
      ttft.push(first);
      whole.push(performance.now() - t);
    }
  }
  ttft.sort((a, b) => a - b);
  whole.sort((a, b) => a - b);
  const p99 = (xs) => xs[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))];
  ctx.print(
    `${'stream: first token event (new session, 1 client)'.padEnd(46)} p50 ${median(ttft).toFixed(2).padStart(7)} ms  p99 ${p99(ttft).toFixed(2).padStart(7)} ms  (whole stream p50 ${median(whole).toFixed(2)} ms; floor p50 ${ctx.floor.p50.toFixed(2)} ms)`,
  );

  const fresh = await ctx.http('POST /agent-chat/{id} (turn, new session)', () => [chatUrl, { method: 'POST', headers, body: body() }], { requests: 500, expectStatus: 200 });

  const one = await ctx.api(`/api/v1/agent-chat/${agent.id}`, { token: user.token, json: { message: 'start' } });
  const same = await ctx.http('POST /agent-chat/{id} (one session)', () => [chatUrl, { method: 'POST', headers, body: body({ session_id: one.session_id }) }], {
    requests: 500,
    expectStatus: 200,
  });

  const sessions = [];
  for (let i = 0; i < 50; i++) sessions.push((await ctx.api(`/api/v1/agent-chat/${agent.id}`, { token: user.token, json: { message: `start ${i}` } })).session_id);
  const many = await ctx.http('POST /agent-chat/{id} (50 sessions, c=50)', (i) => [chatUrl, { method: 'POST', headers, body: body({ session_id: sessions[i % 50] }) }], {
    requests: 1000,
    concurrency: 50,
    expectStatus: 200,
  });

  // The platform's own cost per turn: with one client (no queueing behind other requests), a turn
  // on one session against the bare worker measured the same way, p50.
  const floor1 = await ctx.http('floor: bare "hello" worker, one client', () => [ctx.helloUrl + '/'], { requests: 300, concurrency: 1 });
  const turn1 = await ctx.http('POST /agent-chat/{id} (one session, one client)', () => [chatUrl, { method: 'POST', headers, body: body({ session_id: one.session_id }) }], {
    requests: 300,
    concurrency: 1,
    expectStatus: 200,
  });
  const over = (ms) => `${ms >= 0 ? '+' : ''}${ms.toFixed(2)} ms`;
  ctx.print(
    `${'platform overhead per turn (one client, p50)'.padEnd(46)} first token ${over(median(ttft) - floor1.p50)}, whole turn ${over(turn1.p50 - floor1.p50)} over the one-client floor (p50 ${floor1.p50.toFixed(2)} ms)`,
  );
}
