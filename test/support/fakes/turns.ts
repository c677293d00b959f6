import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeHandler } from './server';

/**
 * Long agent turns under the tests' control (double-texting and resumed turns):
 * - `POST /turns/v1/chat/completions`: an OpenAI-compatible model following a plan in the last
 *   user message, `<<<{"key": k, "tools": [{"name", "arguments"}...], "hold_model_at"?: n}>>>`:
 *   with n tool results after that message it calls `tools[n]` (id `call_<n>`), and once all
 *   have run it answers `done after <n> tools`; the first model request made with exactly
 *   `hold_model_at` results is held (see below). Streams when asked, like the real API.
 * - `GET /turns/hit?key=&hold=1` counts a hit of `key`; with `hold=1` its first hit is held until
 *   `/turns/release?key=`, the client going away, or 20 s.
 * - `GET /turns/count?key=` reads a count (model requests count under `model:<key>:<n>`).
 */
const counts = new Map<string, number>();
const waiting = new Map<string, () => void>();

function count(key: string): number {
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  return n;
}

/** Holds the request until released, the client goes away, or 20 s. */
function hold(key: string, req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiting.delete(key);
      resolve();
    };
    const timer = setTimeout(done, 20_000);
    waiting.set(key, done);
    req.socket.once('close', done);
  });
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

interface Plan {
  key: string;
  tools: Array<{ name: string; arguments: unknown }>;
  hold_model_at?: number;
}

export const turnsFake: FakeHandler = async (req, res, body, url) => {
  const path = url.pathname.slice('/turns'.length);
  const key = url.searchParams.get('key') ?? 'default';
  if (path === '/hit') {
    const n = count(key);
    if (url.searchParams.get('hold') === '1' && n === 1) await hold(key, req);
    if (!res.writableEnded && !res.destroyed) json(res, 200, { key, count: n });
    return;
  }
  if (path === '/count') return json(res, 200, { key, count: counts.get(key) ?? 0 });
  if (path === '/release') {
    waiting.get(key)?.();
    return json(res, 200, { released: key });
  }
  if (path !== '/v1/chat/completions' || req.method !== 'POST') return json(res, 404, { error: { message: 'no such route' } });

  const request = JSON.parse(body.toString('utf8'));
  const messages: Array<{ role: string; content: string | null }> = request.messages;
  let lastUser = messages.length - 1;
  while (lastUser >= 0 && messages[lastUser].role !== 'user') lastUser--;
  const script = (messages[lastUser]?.content ?? '').match(/<<<([\s\S]*?)>>>/);
  const plan: Plan = script ? JSON.parse(script[1]) : { key: 'none', tools: [] };
  const done = messages.slice(lastUser + 1).filter((m) => m.role === 'tool').length;
  const attempt = count(`model:${plan.key}:${done}`);
  if (plan.hold_model_at === done && attempt === 1) {
    await hold(`model:${plan.key}:${done}`, req);
    if (res.destroyed) return;
  }
  const next = plan.tools[done];
  const call = next ? { id: `call_${done}`, type: 'function', function: { name: next.name, arguments: JSON.stringify(next.arguments) } } : null;
  const content = call ? null : `done after ${done} tools`;
  const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  const base = { id: `chatcmpl-turns-${done}`, created: 1700000000, model: request.model };
  if (!request.stream) {
    const message = { role: 'assistant', content, ...(call ? { tool_calls: [call] } : {}) };
    return json(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: call ? 'tool_calls' : 'stop' }], usage });
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const frame = (choices: unknown[], extra: Record<string, unknown> = {}) => res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`);
  const delta = (d: Record<string, unknown>, finish: string | null = null) => frame([{ index: 0, delta: d, finish_reason: finish }]);
  delta({ role: 'assistant', content: '' });
  if (call) {
    delta({ tool_calls: [{ index: 0, ...call }] });
    delta({}, 'tool_calls');
  } else {
    for (const piece of content!.match(/\S+\s*/g) ?? []) delta({ content: piece });
    delta({}, 'stop');
  }
  if (request.stream_options?.include_usage) frame([], { usage });
  res.end('data: [DONE]\n\n');
};
