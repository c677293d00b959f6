import type { FakeHandler } from './server';

/** Generic HTTP behaviours for the outbound guard: echo, redirects, big bodies, slow answers. */
export const basicFake: FakeHandler = async (req, res, body, url) => {
  const path = url.pathname.slice('/basic'.length);
  if (path === '/echo') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, headers: req.headers, body: body.toString('utf8'), query: Object.fromEntries(url.searchParams) }));
  } else if (path === '/redirect') {
    // ?to=<absolute or relative location>&status=302
    res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/basic/echo' }).end();
  } else if (path === '/big') {
    const size = Number(url.searchParams.get('bytes') ?? 1024);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('x'.repeat(size));
  } else if (path === '/slow') {
    await new Promise((r) => setTimeout(r, Number(url.searchParams.get('ms') ?? 2000)));
    res.writeHead(200, { 'content-type': 'text/plain' }).end('late');
  } else if (path === '/status') {
    res.writeHead(Number(url.searchParams.get('code') ?? 500), { 'content-type': 'application/json' }).end('{"error":"as asked"}');
  } else {
    res.writeHead(404).end();
  }
};
