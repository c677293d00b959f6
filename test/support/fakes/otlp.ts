import type { FakeHandler } from './server';

// An OTLP/HTTP trace receiver: POST /otlp/<key>/v1/traces records the request's headers and its
// decoded JSON body (an ExportTraceServiceRequest) and answers ?status= (default 200) with an
// empty ExportTraceServiceResponse; GET /otlp/<key> returns what <key> received, oldest first.
const received = new Map<string, Array<{ headers: Record<string, unknown>; body: unknown }>>();

export const otlpFake: FakeHandler = async (req, res, body, url) => {
  const key = url.pathname.slice('/otlp/'.length).replace(/\/v1\/traces$/, '');
  if (req.method === 'POST') {
    const status = Number(url.searchParams.get('status') ?? 200);
    if (status === 200) received.set(key, [...(received.get(key) ?? []), { headers: req.headers, body: JSON.parse(body.toString('utf8')) }]);
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received.get(key) ?? []));
};
