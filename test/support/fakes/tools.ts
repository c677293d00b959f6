import type { FakeHandler } from './server';

/** Outside services of the tools: a search API, an e-mail API, a feed, a page, a webhook receiver. */
export const toolsFake: FakeHandler = async (req, res, body, url) => {
  const path = url.pathname.slice('/tools'.length);
  const json = (status: number, value: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
  if (path === '/search') {
    if (req.headers.authorization !== 'Bearer search-key') return json(401, { error: 'bad key' });
    const q = url.searchParams.get('q') ?? '';
    const n = Number(url.searchParams.get('count') ?? 10);
    return json(200, { results: Array.from({ length: 8 }, (_, i) => ({ title: `${q} result ${i + 1}`, url: `https://example.com/${i + 1}`, content: `About ${q} (${i + 1})` })).slice(0, n) });
  }
  if (path === '/email') {
    if (req.headers.authorization !== 'Bearer mail-key') return json(401, { error: 'bad key' });
    const sent = JSON.parse(body.toString('utf8'));
    if (!sent.to?.length || !sent.from || !sent.subject) return json(422, { error: 'missing fields', got: sent });
    return json(200, { id: `email-${sent.to.length}-${sent.subject.length}`, echo: sent });
  }
  if (path === '/feed.xml') {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    return void res.end(`<?xml version="1.0"?><rss version="2.0"><channel><title>Fake &amp; Feed</title><link>https://example.com/</link>
      <item><title>First post</title><link>https://example.com/1</link><pubDate>Mon, 01 Jun 2026 08:00:00 GMT</pubDate><description><![CDATA[<p>Hello <b>world</b></p>]]></description></item>
      <item><title>Second post</title><link>https://example.com/2</link><description>Plain</description></item>
    </channel></rss>`);
  }
  if (path === '/atom.xml') {
    res.writeHead(200, { 'content-type': 'application/atom+xml' });
    return void res.end(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Feed</title><link href="https://example.org/"/>
      <entry><title>Entry one</title><link rel="alternate" href="https://example.org/e1"/><updated>2026-06-02T10:00:00Z</updated><summary>Sum &lt;1&gt;</summary></entry></feed>`);
  }
  if (path === '/page.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return void res.end(`<!doctype html><html><head><title>Fake Page</title><style>body{}</style></head><body><script>steal()</script>
      <h1>Welcome</h1><p>Hello <a href="https://example.com/x">link</a> &amp; more.</p><ul><li>one</li><li>two</li></ul></body></html>`);
  }
  if (path === '/api') {
    // An API behind a key: echoes what a custom HTTP tool sent.
    if (req.headers['x-api-key'] !== 'secret-key-123456') return json(403, { error: 'forbidden' });
    return json(200, { method: req.method, query: Object.fromEntries(url.searchParams), path: url.pathname, headers: req.headers, body: body.toString('utf8') });
  }
  if (path.startsWith('/api/items/')) {
    return json(200, { id: decodeURIComponent(path.slice('/api/items/'.length)), query: Object.fromEntries(url.searchParams) });
  }
  if (path === '/webhook') {
    return json(200, { received: JSON.parse(body.toString('utf8') || 'null'), signature: req.headers['x-signature-256'] ?? null, timestamp: req.headers['x-webhook-timestamp'] ?? null });
  }
  if (path === '/fail') return json(500, { error: 'upstream broke' });
  res.writeHead(404).end();
};
