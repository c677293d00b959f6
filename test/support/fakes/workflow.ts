import type { FakeHandler } from './server';

// Per-key hit counters, so tests can tell whether a node ran again; and per key the requests in
// flight now and at most at once, so tests can tell concurrent calls from sequential ones without
// timing them.
const hits = new Map<string, number>();
const inFlight = new Map<string, number>();
const maxInFlight = new Map<string, number>();

/**
 * `/wf/hit?key=&ms=&fail=` counts a hit, waits `ms`, answers `{key, count}` (500 for the first
 * `fail` hits of the key); `/wf/count?key=` reads the count and `max_in_flight`, the most hits of
 * the key that were being answered at once.
 */
export const workflowFake: FakeHandler = async (req, res, body, url) => {
  const path = url.pathname.slice('/wf'.length);
  const key = url.searchParams.get('key') ?? 'default';
  if (path === '/hit') {
    const count = (hits.get(key) ?? 0) + 1;
    hits.set(key, count);
    const now = (inFlight.get(key) ?? 0) + 1;
    inFlight.set(key, now);
    maxInFlight.set(key, Math.max(now, maxInFlight.get(key) ?? 0));
    const ms = Number(url.searchParams.get('ms') ?? 0);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
    res.writeHead(count <= Number(url.searchParams.get('fail') ?? 0) ? 500 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ key, count, method: req.method, body: body.toString('utf8') }));
  } else if (path === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ key, count: hits.get(key) ?? 0, max_in_flight: maxInFlight.get(key) ?? 0 }));
  } else {
    res.writeHead(404).end();
  }
};
