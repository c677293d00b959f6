import type { FakeHandler } from './server';

/**
 * A JSON API for the `http` data-source type: `GET /data-api/v1/cities` answers
 * `{"data": {"cities": [...]}}` when `X-Api-Key: data-key-123` is sent, 401 otherwise;
 * `GET /data-api/v1/echo` answers with what it received. Anything but GET is 405.
 */
export const DATA_API_KEY = 'data-key-123';
const CITIES = [
  { name: 'Beijing', country: 'CN', population: 21_540_000 },
  { name: 'Shanghai', country: 'CN', population: 24_870_000 },
  { name: 'Tokyo', country: 'JP', population: 13_960_000 },
  { name: 'Osaka', country: 'JP', population: 2_750_000 },
  { name: 'Paris', country: 'FR', population: 2_160_000 },
];

export const dataApiFake: FakeHandler = (req, res, _body, url) => {
  const path = url.pathname.slice('/data-api'.length);
  if (req.method !== 'GET') return res.writeHead(405).end();
  if (path === '/v1/echo') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify([{ headers: req.headers, query: Object.fromEntries(url.searchParams) }]));
  }
  if (req.headers['x-api-key'] !== DATA_API_KEY) return res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
  if (path === '/v1/cities' || path === '/v1/') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ data: { cities: CITIES } }));
  }
  res.writeHead(404).end();
};
