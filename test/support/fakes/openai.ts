import type { ServerResponse } from 'node:http';
import type { FakeHandler } from './server';

/**
 * A fake OpenAI-compatible Chat Completions API (`POST /openai/v1/chat/completions`) speaking the
 * real wire format. The model name picks the behaviour:
 * - any model: `fake: <last user message>` (streamed in small pieces), usage 11/7/18;
 * - `fake-tools`: two tool calls, streamed as fragments split across chunks and network writes;
 * - `fake-inspect`: the content is the JSON of what the fake received (authorization, body);
 * - `fake-429`: the first request per (model, last user message) is 429 with `Retry-After: 1`;
 * - `fake-500`: always 500; `fake-malformed`: a stream with a broken JSON chunk;
 * - `fake-slow`: answers after 1.5 s; `fake-hang`: streams one token, then stalls for 5 s.
 * `GET /openai/_attempts?key=<model>:<last user message>` counts the requests per such key.
 * Requests must carry `Authorization: Bearer sk-fake-0123456789`.
 */
export const FAKE_OPENAI_KEY = 'sk-fake-0123456789';
const attempts = new Map<string, number>();
const USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
const TOOL_CALLS = [
  { id: 'call_weather_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
  { id: 'call_calc_2', name: 'calculator', arguments: '{"expression":"2*3"}' },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export const openaiFake: FakeHandler = async (req, res, body, url) => {
  const path = url.pathname.slice('/openai'.length);
  if (path === '/_attempts') return json(res, 200, { count: attempts.get(url.searchParams.get('key') ?? '') ?? 0 });
  if (path !== '/v1/chat/completions' || req.method !== 'POST') return json(res, 404, { error: { message: 'no such route' } });
  if (req.headers.authorization !== `Bearer ${FAKE_OPENAI_KEY}`) {
    return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
  }
  const request = JSON.parse(body.toString('utf8'));
  const model: string = request.model;
  const lastUser = [...request.messages].reverse().find((m: { role: string }) => m.role === 'user')?.content ?? '';
  const key = `${model}:${lastUser}`;
  const n = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, n);
  const id = `chatcmpl-${n}`;
  const base = { id, object: 'chat.completion.chunk', created: 1700000000, model };

  if (model === 'fake-429' && n === 1) return json(res, 429, { error: { message: 'Rate limit reached', type: 'requests' } }, { 'retry-after': '1' });
  if (model === 'fake-500') return json(res, 500, { error: { message: 'The server had an error', type: 'server_error' } });
  if (model === 'fake-slow') await sleep(1500);

  const isTools = model === 'fake-tools';
  const content = model === 'fake-inspect' ? JSON.stringify({ authorization: req.headers.authorization, body: request }) : isTools ? '' : `fake: ${lastUser}`;

  if (!request.stream) {
    const message: Record<string, unknown> = { role: 'assistant', content: isTools ? null : content };
    if (isTools) message.tool_calls = TOOL_CALLS.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    return json(res, 200, {
      id,
      object: 'chat.completion',
      created: 1700000000,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: isTools ? 'tool_calls' : 'stop' }],
      usage: USAGE,
      system_fingerprint: 'fp_fake',
    });
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const frame = (chunk: unknown) => `data: ${JSON.stringify(chunk)}\n\n`;
  const delta = (d: Record<string, unknown>, finish: string | null = null) => frame({ ...base, choices: [{ index: 0, delta: d, logprobs: null, finish_reason: finish }] });

  res.write(delta({ role: 'assistant', content: '' }));
  if (model === 'fake-malformed') {
    res.write(delta({ content: 'fine so far' }));
    res.write('data: {"id":"chatcmpl-x","choices":[{"index":0,"delta":{"content":"bro\n\n');
    res.write(delta({}, 'stop'));
    res.end('data: [DONE]\n\n');
    return;
  }
  if (isTools) {
    const [a, b] = TOOL_CALLS;
    const tc = (index: number, part: Record<string, unknown>) => delta({ tool_calls: [{ index, ...part }] });
    // Two calls interleaved, arguments in fragments; one frame is split across two writes.
    res.write(tc(0, { id: a.id, type: 'function', function: { name: a.name, arguments: '' } }));
    res.write(tc(0, { function: { arguments: '{"ci' } }) + tc(1, { id: b.id, type: 'function', function: { name: b.name, arguments: '' } }));
    const split = tc(0, { function: { arguments: 'ty":"Par' } });
    res.write(split.slice(0, 25));
    await sleep(20);
    res.write(split.slice(25));
    res.write(tc(1, { function: { arguments: '{"expression":' } }));
    res.write(tc(0, { function: { arguments: 'is"}' } }));
    res.write(tc(1, { function: { arguments: '"2*3"}' } }));
    res.write(delta({}, 'tool_calls'));
  } else {
    const pieces = content.match(/.{1,4}/gs) ?? [];
    for (const [i, piece] of pieces.entries()) {
      res.write(delta({ content: piece }));
      if (model === 'fake-hang' && i === 0) await sleep(5000);
    }
    res.write(delta({}, 'stop'));
  }
  if (request.stream_options?.include_usage) res.write(frame({ ...base, choices: [], usage: USAGE }));
  res.end('data: [DONE]\n\n');
};
