import type { FakeHandler } from './server';

/**
 * The API behind the test plugin (an OpenAPI document in test/plugins-templates.test.ts):
 * `GET /plugin-api/weather/{city}?units=` and `POST /plugin-api/notes` (JSON). Every answer says
 * which `X-Plugin-Key` it was called with, so tests can tell whose credentials a call used.
 */
export const pluginApiFake: FakeHandler = (req, res, body, url) => {
  const key = req.headers['x-plugin-key'];
  const send = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  if (!key) return send(401, { error: 'missing key' });
  const path = url.pathname.slice('/plugin-api'.length);
  const weather = path.match(/^\/weather\/([^/]+)$/);
  if (req.method === 'GET' && weather) return send(200, { city: decodeURIComponent(weather[1]), units: url.searchParams.get('units') ?? 'metric', temp: 21, key });
  if (req.method === 'POST' && path === '/notes') return send(201, { saved: JSON.parse(body.toString('utf8') || 'null'), key });
  send(404, { error: 'not found' });
};
