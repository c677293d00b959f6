import type { FakeHandler } from './server';

// Per-key hit counters, so tests can tell whether a node ran again.
const hits = new Map<string, number>();

/**
 * `/wf/hit?key=&ms=&fail=` counts a hit, waits `ms`, answers `{key, count}` (500 for the first
 * `fail` hits of the key); `/wf/count?key=` reads the count.
 */
export const workflowFake: FakeHandler = async (req, res, body, url) => {
  const path = url.pathname.slice('/wf'.length);
  const key = url.searchParams.get('key') ?? 'default';
  if (path === '/hit') {
    const count = (hits.get(key) ?? 0) + 1;
    hits.set(key, count);
    const ms = Number(url.searchParams.get('ms') ?? 0);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    res.writeHead(count <= Number(url.searchParams.get('fail') ?? 0) ? 500 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ key, count, method: req.method, body: body.toString('utf8') }));
  } else if (path === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ key, count: hits.get(key) ?? 0 }));
  } else {
    res.writeHead(404).end();
  }
};
