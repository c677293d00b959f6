import type { FakeHandler } from './server';

/**
 * An OpenAI-compatible embeddings endpoint: `POST /embeddings-api/<mode>/embeddings`.
 * Mode `ok`: 8-dimensional vectors counting a, b, c, ... letters of each input (deterministic);
 * mode `down`: 503 every time. Requests are recorded for `GET /embeddings-api/requests`.
 */
const requests: Array<{ authorization?: string; body: unknown }> = [];

export const embeddingsFake: FakeHandler = async (req, res, body, url) => {
  const path = url.pathname.slice('/embeddings-api'.length);
  if (path === '/requests') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(requests));
    return;
  }
  const match = path.match(/^\/(ok|down)\/embeddings$/);
  if (!match || req.method !== 'POST') {
    res.writeHead(404).end();
    return;
  }
  const parsed = JSON.parse(body.toString('utf8')) as { model: string; input: string[] };
  requests.push({ authorization: req.headers.authorization, body: parsed });
  if (match[1] === 'down') {
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"overloaded"}');
    return;
  }
  const data = parsed.input.map((text, index) => {
    const v = new Array(8).fill(0);
    for (const ch of text.toLowerCase()) {
      const i = ch.charCodeAt(0) - 97;
      if (i >= 0 && i < 8) v[i] += 1;
    }
    v[7] += 0.01; // never the zero vector
    return { object: 'embedding', index, embedding: v };
  });
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: parsed.model }));
};
