import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeHandler } from './server';

/**
 * A fake S3-compatible store (path-style `/s3/<bucket>/<key>`), read-only: ListObjectsV2 and
 * GetObject with Range. Every request must carry a valid AWS SigV4 signature for
 * FAKE_S3_ACCESS_KEY / FAKE_S3_SECRET_KEY, verified here independently of the worker's signer
 * (the canonical request is rebuilt from the raw request line and headers as S3 does).
 */
export const FAKE_S3_ACCESS_KEY = 'AKIAFAKEEXAMPLE';
export const FAKE_S3_SECRET_KEY = 'fake/secret/KEY+0123456789';
export const FAKE_S3_BUCKET = 'reports';

const objects: Record<string, { body: string; type: string }> = {
  'sales/2026-01.csv': { body: 'region,amount\nnorth,10\nsouth,20\n', type: 'text/csv' },
  'sales/2026-02.csv': { body: 'region,amount\nnorth,15\nsouth,25\n', type: 'text/csv' },
  'readme.txt': { body: 'Quarterly reports & notes <draft>', type: 'text/plain' },
};

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function verify(req: IncomingMessage, rawPath: string, rawQuery: string): string | null {
  const auth = String(req.headers.authorization ?? '');
  const m = auth.match(/^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/);
  if (!m) return 'missing or malformed authorization';
  const [, keyId, date, region, signedHeaders, signature] = m;
  if (keyId !== FAKE_S3_ACCESS_KEY) return 'InvalidAccessKeyId';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date)) return 'date mismatch';
  const canonicalQuery = rawQuery
    .split('&')
    .filter(Boolean)
    .map((p) => p.split('=').map((x) => enc(decodeURIComponent(x.replace(/\+/g, ' ')))))
    .map(([k, v = '']) => [k, v])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return 'host not signed';
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim()}\n`).join('');
  const payload = String(req.headers['x-amz-content-sha256'] ?? '');
  const canonical = [req.method, rawPath, canonicalQuery, canonicalHeaders, signedHeaders, payload].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', 'AWS4' + FAKE_S3_SECRET_KEY).update(date).digest();
  for (const part of [region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(toSign).digest('hex');
  return expected === signature ? null : 'SignatureDoesNotMatch';
}

function xmlError(res: ServerResponse, status: number, code: string, message: string) {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const s3Fake: FakeHandler = async (req, res, _body, url) => {
  const [rawPath, rawQuery = ''] = String(req.url).split('?');
  const problem = verify(req, rawPath, rawQuery);
  if (problem) return xmlError(res, 403, problem.includes(' ') ? 'AccessDenied' : problem, problem);
  if (req.method !== 'GET' && req.method !== 'HEAD') return xmlError(res, 405, 'MethodNotAllowed', 'read-only fake');
  const [, , bucket, ...keyParts] = url.pathname.split('/');
  if (bucket !== FAKE_S3_BUCKET) return xmlError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
  const key = keyParts.map(decodeURIComponent).join('/');
  if (!key) {
    const prefix = url.searchParams.get('prefix') ?? '';
    const max = Number(url.searchParams.get('max-keys') ?? 1000);
    const keys = Object.keys(objects).filter((k) => k.startsWith(prefix)).sort();
    const shown = keys.slice(0, max);
    const contents = shown
      .map((k) => `<Contents><Key>${esc(k)}</Key><LastModified>2026-01-31T00:00:00.000Z</LastModified><ETag>&quot;${createHash('md5').update(objects[k].body).digest('hex')}&quot;</ETag><Size>${Buffer.byteLength(objects[k].body)}</Size></Contents>`)
      .join('');
    res.writeHead(200, { 'content-type': 'application/xml' });
    return res.end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${shown.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${keys.length > max}</IsTruncated>${contents}</ListBucketResult>`);
  }
  const obj = objects[key];
  if (!obj) return xmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  const full = Buffer.from(obj.body);
  const range = String(req.headers.range ?? '').match(/^bytes=(\d+)-(\d+)$/);
  if (range) {
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), full.length - 1);
    res.writeHead(206, { 'content-type': obj.type, 'content-range': `bytes ${start}-${end}/${full.length}` });
    return res.end(full.subarray(start, end + 1));
  }
  res.writeHead(200, { 'content-type': obj.type }).end(full);
};
