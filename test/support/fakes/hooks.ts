import type { FakeHandler } from './server';

// A webhook receiver: POST /hooks/<key> records the JSON body (answering ?status=, default 200);
// GET /hooks/<key> returns what <key> received, oldest first.
const received = new Map<string, unknown[]>();

export const hooksFake: FakeHandler = async (req, res, body, url) => {
  const key = url.pathname.slice('/hooks/'.length);
  if (req.method === 'POST') {
    const list = received.get(key) ?? [];
    list.push(JSON.parse(body.toString('utf8') || 'null'));
    received.set(key, list);
    res.writeHead(Number(url.searchParams.get('status') ?? 200), { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received.get(key) ?? []));
};
