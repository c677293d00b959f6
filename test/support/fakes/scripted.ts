import type { FakeHandler } from './server';

/**
 * A fake OpenAI-compatible model that answers with a script embedded in the request
 * (`POST /scripted/v1/chat/completions`): the content is the text between `<<<` and `>>>` in the
 * last user message, or `no script` — so a test decides exactly what a "real" model returns
 * (a JSON plan, a cyclic plan, prose).
 */
export const scriptedFake: FakeHandler = async (req, res, body, url) => {
  if (url.pathname !== '/scripted/v1/chat/completions' || req.method !== 'POST') {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such route"}}');
    return;
  }
  const request = JSON.parse(body.toString('utf8'));
  const lastUser: string = [...request.messages].reverse().find((m: { role: string }) => m.role === 'user')?.content ?? '';
  const script = lastUser.match(/<<<([\s\S]*?)>>>/);
  const content = script ? script[1] : 'no script';
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      id: 'chatcmpl-scripted',
      object: 'chat.completion',
      created: 1700000000,
      model: request.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    }),
  );
};
