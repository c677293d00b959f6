import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../../src/engine/data-sources/sigv4';
import { parseCsv } from '../../../src/engine/data-sources/tabular';
import { encodeCommand, RespError, RespParser } from '../../../src/engine/data-sources/redis';
import { DATA_API_KEY } from '../../support/fakes/data-api';
import { FAKE_S3_ACCESS_KEY, FAKE_S3_BUCKET, FAKE_S3_SECRET_KEY } from '../../support/fakes/s3';
import { api, createUser, expectError } from '../../support/helpers';
import type { TEST_SERVICES as Services } from '../../support/services';

const services = JSON.parse(env.TEST_SERVICES) as typeof Services;
const pg = services.postgresql;
const my = services.mysql;
const redis = services.redis;

let alice: Awaited<ReturnType<typeof createUser>>;
let bob: Awaited<ReturnType<typeof createUser>>;

beforeAll(async () => {
  alice = await createUser('alice');
  bob = await createUser('bob');
});

async function create(token: string, body: Record<string, unknown>) {
  const res = await api('/api/v1/data-sources', { token, json: body });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: string; [k: string]: any };
}

const pgSource = (token: string, password: string = pg.password) =>
  create(token, { name: 'warehouse', type: 'postgresql', config: { host: pg.host, port: pg.port, database: pg.database, user: pg.user }, credentials: { password } });
const query = (token: string, id: string, json: Record<string, unknown>) => api(`/api/v1/data-sources/${id}/query`, { token, json });

describe('data source CRUD', () => {
  it('creates, lists, reads, updates and deletes; credentials are encrypted and never returned', async () => {
    const ds = await pgSource(alice.token);
    expect(ds).toMatchObject({ name: 'warehouse', type: 'postgresql', owner_id: alice.id, credential_fields: ['password'], last_test: null });
    expect(ds.config).toEqual({ host: pg.host, port: pg.port, database: pg.database, user: pg.user, ssl: false });
    const row = await env.DB.prepare('SELECT credentials_encrypted, config FROM data_sources WHERE id = ?').bind(ds.id).first<{ credentials_encrypted: string; config: string }>();
    expect(row!.credentials_encrypted).toMatch(/^v1:/);
    expect(row!.credentials_encrypted).not.toContain(pg.password);
    expect(row!.config).not.toContain(pg.password);

    const got = await api(`/api/v1/data-sources/${ds.id}`, { token: alice.token });
    expect(got.status).toBe(200);
    expect(got.text).not.toContain(pg.password);

    const list = await api('/api/v1/data-sources?type=postgresql&search=wareh', { token: alice.token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((d: any) => d.id)).toContain(ds.id);
    expect(list.text).not.toContain(pg.password);
    const bobList = await api('/api/v1/data-sources', { token: bob.token });
    expect(bobList.body.items.map((d: any) => d.id)).not.toContain(ds.id);

    const upd = await api(`/api/v1/data-sources/${ds.id}`, { token: alice.token, method: 'PUT', json: { name: 'renamed', credentials: { password: null } } });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body).toMatchObject({ name: 'renamed', credential_fields: [] });
    const after = await env.DB.prepare('SELECT credentials_encrypted FROM data_sources WHERE id = ?').bind(ds.id).first<{ credentials_encrypted: string | null }>();
    expect(after!.credentials_encrypted).toBeNull();

    expect((await api(`/api/v1/data-sources/${ds.id}`, { token: alice.token, method: 'DELETE' })).status).toBe(204);
    expect(await env.DB.prepare('SELECT id FROM data_sources WHERE id = ?').bind(ds.id).first()).toBeNull();
    expectError(await api(`/api/v1/data-sources/${ds.id}`, { token: alice.token }), 404, 'NOT_FOUND');
  });

  it('validates the type’s settings and credentials (422 naming the field)', async () => {
    expect(expectError(await api('/api/v1/data-sources', { token: alice.token, json: { name: 'x', type: 'postgresql', config: { port: 5432 } } }), 422).message).toContain('body.config.host');
    expectError(await api('/api/v1/data-sources', { token: alice.token, json: { name: 'x', type: 'oracle', config: {} } }), 422);
    expect(expectError(await api('/api/v1/data-sources', { token: alice.token, json: { name: 'x', type: 'redis', config: { host: 'h' }, credentials: { secret: 'x' } } }), 422).message).toContain('body.credentials');
    expect(expectError(await api('/api/v1/data-sources', { token: alice.token, json: { name: 'x', type: 'csv', config: {} } }), 422).message).toContain('exactly one of content and upload_id');
    const ds = await pgSource(alice.token);
    expect(expectError(await api(`/api/v1/data-sources/${ds.id}`, { token: alice.token, method: 'PUT', json: { config: { host: '' } } }), 422).message).toContain('body.config');
    expect(expectError(await query(alice.token, ds.id, { command: 'GET' }), 422).message).toContain('body.sql');
    expectError(await query(alice.token, ds.id, { sql: 'select 1', max_rows: 100000 }), 422);
  });

  it('401 without a token; another user’s source and unknown ids are 404 on every endpoint', async () => {
    expectError(await api('/api/v1/data-sources'), 401, 'UNAUTHORIZED');
    expectError(await api('/api/v1/data-sources', { json: { name: 'x' } }), 401);
    const ds = await pgSource(alice.token);
    for (const id of [ds.id, crypto.randomUUID()]) {
      expectError(await api(`/api/v1/data-sources/${id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await api(`/api/v1/data-sources/${id}`, { token: bob.token, method: 'PUT', json: { name: 'mine' } }), 404);
      expectError(await api(`/api/v1/data-sources/${id}`, { token: bob.token, method: 'DELETE' }), 404);
      expectError(await api(`/api/v1/data-sources/${id}/test`, { token: bob.token, method: 'POST' }), 404);
      expectError(await query(bob.token, id, { sql: 'select 1' }), 404);
    }
    expectError(await api(`/api/v1/data-sources/${ds.id}/test`, { method: 'POST' }), 401);
    expect((await api(`/api/v1/data-sources/${ds.id}`, { token: alice.token })).body.name).toBe('warehouse');
  });
});

describe('PostgreSQL (real server)', () => {
  it('tests the connection and records the outcome', async () => {
    const ds = await pgSource(alice.token);
    const ok = await api(`/api/v1/data-sources/${ds.id}/test`, { token: alice.token, method: 'POST' });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, error: null });
    expect(ok.body.server).toMatch(/^PostgreSQL \d+/);
    expect((await api(`/api/v1/data-sources/${ds.id}`, { token: alice.token })).body.last_test).toMatchObject({ ok: true, error: null });

    const bad = await pgSource(alice.token, 'wrong password');
    const failed = await api(`/api/v1/data-sources/${bad.id}/test`, { token: alice.token, method: 'POST' });
    expect(failed.status).toBe(200);
    expect(failed.body.ok).toBe(false);
    expect(failed.body.message).toMatch(/password authentication failed/);
    expect((await api(`/api/v1/data-sources/${bad.id}`, { token: alice.token })).body.last_test).toMatchObject({ ok: false });
  });

  it('queries with parameters and a row limit', async () => {
    const ds = await pgSource(alice.token);
    const res = await query(alice.token, ds.id, { sql: 'SELECT id, name, city, score FROM people WHERE city = $1 ORDER BY id', params: ['Beijing'], max_rows: 5 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.columns).toEqual(['id', 'name', 'city', 'score']);
    expect(res.body.rows).toHaveLength(5);
    expect(res.body.rows[0]).toEqual({ id: 3, name: 'person 3', city: 'Beijing', score: '4.5' });
    expect(res.body).toMatchObject({ row_count: 5, truncated: true });
    const small = await query(alice.token, ds.id, { sql: 'SELECT count(*)::int AS n FROM people' });
    expect(small.body).toMatchObject({ rows: [{ n: 250 }], truncated: false });
  });

  it('is read-only by transaction: writes, COMMIT tricks and read-write switches are refused', async () => {
    const ds = await pgSource(alice.token);
    for (const sql of [
      'DELETE FROM people',
      "UPDATE people SET name = 'x'",
      'CREATE TABLE evil (id int)',
      'COMMIT; DELETE FROM people',
      'SET TRANSACTION READ WRITE',
    ]) {
      const res = await query(alice.token, ds.id, { sql });
      expect(expectError(res, 400, 'QUERY_ERROR').message, sql).toMatch(/read-only|cannot insert multiple commands|read-write mode must be set before any query/);
    }
    const count = await query(alice.token, ds.id, { sql: 'SELECT count(*)::int AS n FROM people' });
    expect(count.body.rows[0].n).toBe(250);
  });

  it('stops a query at its timeout (504) and reports SQL errors (400)', async () => {
    const ds = await pgSource(alice.token);
    const started = Date.now();
    expectError(await query(alice.token, ds.id, { sql: 'SELECT pg_sleep(5)', timeout_ms: 300 }), 504, 'QUERY_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(expectError(await query(alice.token, ds.id, { sql: 'SELECT * FROM nope' }), 400, 'QUERY_ERROR').message).toContain('does not exist');
  });
});

describe('MySQL protocol (real MariaDB server)', () => {
  const mySource = () =>
    create(alice.token, { name: 'shop', type: 'mysql', config: { host: my.host, port: my.port, database: my.database, user: my.user }, credentials: { password: my.password } });

  it('tests, queries with a row limit and refuses writes by the transaction', async () => {
    const ds = await mySource();
    const t = await api(`/api/v1/data-sources/${ds.id}/test`, { token: alice.token, method: 'POST' });
    expect(t.body, t.text).toMatchObject({ ok: true });
    expect(t.body.server).toMatch(/MariaDB|\d+\.\d+/);
    const res = await query(alice.token, ds.id, { sql: 'SELECT id, name, city FROM people WHERE city = ? ORDER BY id', params: ['Shanghai'], max_rows: 3 });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ columns: ['id', 'name', 'city'], row_count: 3, truncated: true });
    expect(res.body.rows[0]).toEqual({ id: 1, name: 'person 1', city: 'Shanghai' });
    for (const sql of ['DELETE FROM people', "UPDATE people SET name = 'x' WHERE id = 1"]) {
      expect(expectError(await query(alice.token, ds.id, { sql }), 400, 'QUERY_ERROR').message).toMatch(/READ ONLY/i);
    }
    expect(expectError(await query(alice.token, ds.id, { sql: 'COMMIT; DELETE FROM people' }), 400, 'QUERY_ERROR').message).toMatch(/syntax/i);
    expect((await query(alice.token, ds.id, { sql: 'SELECT COUNT(*) AS n FROM people' })).body.rows[0].n).toBe(250);
    // BIGINT beyond 2^53 stays a string (no precision lost); DECIMAL too.
    expect((await query(alice.token, ds.id, { sql: 'SELECT 9007199254740993 AS big, CAST(1.5 AS DECIMAL(5,2)) AS d, NULL AS n, ? AS s', params: ["it's"] })).body.rows[0]).toEqual({ big: '9007199254740993', d: '1.50', n: null, s: "it's" });
  });

  it('times out a slow query', async () => {
    const ds = await mySource();
    expectError(await query(alice.token, ds.id, { sql: 'SELECT SLEEP(5)', timeout_ms: 300 }), 504, 'QUERY_TIMEOUT');
  });
});

describe('Redis (real server, RESP over a socket)', () => {
  const redisSource = (password: string = redis.password) => create(alice.token, { name: 'cache', type: 'redis', config: { host: redis.host, port: redis.port }, credentials: { password } });

  it('tests the connection (and fails on a wrong password)', async () => {
    const ds = await redisSource();
    const t = await api(`/api/v1/data-sources/${ds.id}/test`, { token: alice.token, method: 'POST' });
    expect(t.body, t.text).toMatchObject({ ok: true });
    expect(t.body.server).toMatch(/^Redis \d/);
    const bad = await redisSource('nope');
    const f = await api(`/api/v1/data-sources/${bad.id}/test`, { token: alice.token, method: 'POST' });
    expect(f.body).toMatchObject({ ok: false, error: 'DATA_SOURCE_ERROR' });
  });

  it('runs read commands, refuses writes by the server’s own command flags', async () => {
    const ds = await redisSource();
    const get = await query(alice.token, ds.id, { command: 'GET', args: ['greeting'] });
    expect(get.status, get.text).toBe(200);
    expect(get.body.rows).toEqual([{ index: 0, value: 'hello from redis' }]);
    const list = await query(alice.token, ds.id, { command: 'lrange', args: ['queue', '0', '-1'], max_rows: 2 });
    expect(list.body).toMatchObject({ rows: [{ index: 0, value: 'a' }, { index: 1, value: 'b' }], truncated: true });
    for (const [command, args] of [['SET', ['greeting', 'pwned']], ['FLUSHALL', []], ['DEL', ['queue']], ['CONFIG', ['SET', 'maxmemory', '1']]] as const) {
      expect(expectError(await query(alice.token, ds.id, { command, args }), 400, 'QUERY_ERROR').message).toMatch(/not a read-only command/);
    }
    expectError(await query(alice.token, ds.id, { command: 'NOSUCHCMD' }), 400, 'QUERY_ERROR');
    expect((await query(alice.token, ds.id, { command: 'GET', args: ['greeting'] })).body.rows[0].value).toBe('hello from redis');
  });

  it('parses RESP incrementally', () => {
    const p = new RespParser();
    const bytes = new TextEncoder().encode('*3\r\n$5\r\nhello\r\n:42\r\n*2\r\n$-1\r\n-ERR bad\r\n+OK\r\n');
    p.feed(bytes.subarray(0, 7));
    expect(p.next()).toBeUndefined();
    p.feed(bytes.subarray(7));
    const v = p.next() as unknown[];
    expect(v[0]).toBe('hello');
    expect(v[1]).toBe(42);
    expect((v[2] as unknown[])[0]).toBeNull();
    expect((v[2] as unknown[])[1]).toBeInstanceOf(RespError);
    expect(p.next()).toBe('OK');
    expect(new TextDecoder().decode(encodeCommand(['GET', '键']))).toBe('*2\r\n$3\r\nGET\r\n$3\r\n键\r\n');
  });
});

describe('S3-compatible (local fake verifying SigV4)', () => {
  const s3Source = (secret = FAKE_S3_SECRET_KEY) =>
    create(alice.token, {
      name: 'reports',
      type: 's3',
      config: { endpoint: `${env.FAKE_BASE_URL}/s3`, region: 'us-east-1', bucket: FAKE_S3_BUCKET },
      credentials: { access_key_id: FAKE_S3_ACCESS_KEY, secret_access_key: secret },
    });

  it('signs like AWS (the published GetObject example)', async () => {
    const headers = await signRequest(
      'GET',
      new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      { range: 'bytes=0-9' },
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      'us-east-1',
      new Date('2013-05-24T00:00:00Z'),
    );
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('lists and reads objects; a wrong secret is refused by the store', async () => {
    const ds = await s3Source();
    expect((await api(`/api/v1/data-sources/${ds.id}/test`, { token: alice.token, method: 'POST' })).body).toMatchObject({ ok: true });
    const list = await query(alice.token, ds.id, { action: 'list', prefix: 'sales/' });
    expect(list.status, list.text).toBe(200);
    expect(list.body.rows.map((r: any) => r.key)).toEqual(['sales/2026-01.csv', 'sales/2026-02.csv']);
    expect(list.body.rows[0].size).toBe(32);
    const limited = await query(alice.token, ds.id, { action: 'list', max_rows: 1 });
    expect(limited.body).toMatchObject({ row_count: 1, truncated: true });
    const read = await query(alice.token, ds.id, { action: 'read', key: 'readme.txt' });
    expect(read.body.rows[0]).toMatchObject({ key: 'readme.txt', content: 'Quarterly reports & notes <draft>', content_type: 'text/plain' });
    const part = await query(alice.token, ds.id, { action: 'read', key: 'readme.txt', max_bytes: 9 });
    expect(part.body.rows[0].content).toBe('Quarterly');
    expect(part.body.truncated).toBe(true);
    expectError(await query(alice.token, ds.id, { action: 'read', key: 'missing.txt' }), 400, 'QUERY_ERROR');
    expectError(await query(alice.token, ds.id, { action: 'delete', key: 'readme.txt' }), 422);

    const bad = await s3Source('wrong-secret');
    const t = await api(`/api/v1/data-sources/${bad.id}/test`, { token: alice.token, method: 'POST' });
    expect(t.body.ok).toBe(false);
    expect(t.body.message).toContain('SignatureDoesNotMatch');
  });
});

describe('HTTP API, CSV and JSON sources', () => {
  it('queries an HTTP API with a secret header, filters and a records path', async () => {
    const ds = await create(alice.token, {
      name: 'cities',
      type: 'http',
      config: { base_url: `${env.FAKE_BASE_URL}/data-api/v1`, records_path: 'data.cities' },
      credentials: { headers: { 'X-Api-Key': DATA_API_KEY } },
    });
    expect(JSON.stringify(ds)).not.toContain(DATA_API_KEY);
    const res = await query(alice.token, ds.id, { path: 'cities', filters: [{ field: 'country', op: 'eq', value: 'JP' }], sort: { field: 'population', direction: 'desc' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.rows.map((r: any) => r.name)).toEqual(['Tokyo', 'Osaka']);
    expectError(await query(alice.token, ds.id, { path: '../../basic/echo' }), 400, 'QUERY_ERROR');
    const noKey = await create(alice.token, { name: 'nokey', type: 'http', config: { base_url: `${env.FAKE_BASE_URL}/data-api/v1` } });
    expectError(await query(alice.token, noKey.id, { path: 'cities' }), 502, 'DATA_SOURCE_ERROR');
  });

  it('filters, sorts and projects CSV and JSON content', async () => {
    const csv = await create(alice.token, { name: 'sales', type: 'csv', config: { content: 'region,amount,note\nnorth,10,"a, b"\nsouth,9,"say ""hi"""\neast,100,x\n' } });
    const res = await query(alice.token, csv.id, { filters: [{ field: 'amount', op: 'gte', value: 10 }], sort: { field: 'amount', direction: 'desc' }, columns: ['region', 'amount'] });
    expect(res.body).toMatchObject({ columns: ['region', 'amount'], rows: [{ region: 'east', amount: '100' }, { region: 'north', amount: '10' }] });
    const all = await query(alice.token, csv.id, {});
    expect(all.body.columns).toEqual(['region', 'amount', 'note']);
    expect(all.body.rows[1].note).toBe('say "hi"');
    const json = await create(alice.token, { name: 'people', type: 'json', config: { content: JSON.stringify({ items: [{ n: 'Ann', age: 31 }, { n: 'Bo', age: 25 }, { n: 'Cy', age: 40 }] }), records_path: 'items' } });
    const j = await query(alice.token, json.id, { filters: [{ field: 'age', op: 'in', value: [25, 40] }], max_rows: 1 });
    expect(j.body).toMatchObject({ rows: [{ n: 'Bo', age: 25 }], truncated: true });
    expect((await api(`/api/v1/data-sources/${json.id}/test`, { token: alice.token, method: 'POST' })).body).toMatchObject({ ok: true, server: 'JSON with 3 records' });
    const broken = await create(alice.token, { name: 'broken', type: 'json', config: { content: '{nope' } });
    expectError(await query(alice.token, broken.id, {}), 400, 'QUERY_ERROR');
    expect(parseCsv('a;b\r\n1;2', ';').rows).toEqual([{ a: '1', b: '2' }]);
  });
});

describe('CSV and JSON from uploads', () => {
  async function upload(token: string, text: string, name: string, type: string) {
    const form = new FormData();
    form.append('file', new File([text], name, { type }));
    const res = await api('/api/v1/uploads', { token, method: 'POST', body: form });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }

  it('reads the owner’s upload at query time; other users’ uploads are refused', async () => {
    const csvId = await upload(alice.token, 'city,visitors\nBeijing,30\nParis,12\nTokyo,25\n', 'visits.csv', 'text/csv');
    const ds = await create(alice.token, { name: 'visits', type: 'csv', config: { upload_id: csvId } });
    const res = await query(alice.token, ds.id, { filters: [{ field: 'visitors', op: 'gt', value: 20 }], sort: { field: 'city' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.rows).toEqual([{ city: 'Beijing', visitors: '30' }, { city: 'Tokyo', visitors: '25' }]);
    const jsonId = await upload(alice.token, JSON.stringify([{ a: 1 }, { a: 2 }]), 'a.json', 'application/json');
    const j = await create(alice.token, { name: 'a', type: 'json', config: { upload_id: jsonId } });
    expect((await query(alice.token, j.id, { filters: [{ field: 'a', op: 'eq', value: 2 }] })).body.rows).toEqual([{ a: 2 }]);
    // Bob cannot point a data source at Alice's upload.
    expect(expectError(await api('/api/v1/data-sources', { token: bob.token, json: { name: 'steal', type: 'csv', config: { upload_id: csvId } } }), 422).message).toContain('upload_id');
    // A deleted upload is an error of the query, not a crash.
    await env.DB.prepare('DELETE FROM uploads WHERE id = ?').bind(csvId).run();
    expectError(await query(alice.token, ds.id, {}), 400, 'QUERY_ERROR');
  });
});

describe('private networks', () => {
  it('refuses private, loopback and internal hosts not on the test allowlist', async () => {
    for (const host of ['10.0.0.5', '127.0.0.1', 'localhost', '169.254.169.254', 'db.internal']) {
      const ds = await create(alice.token, { name: 'inside', type: 'postgresql', config: { host, port: 5432, database: 'x', user: 'x' } });
      const t = await api(`/api/v1/data-sources/${ds.id}/test`, { token: alice.token, method: 'POST' });
      expect(t.body, host).toMatchObject({ ok: false, error: 'SSRF_BLOCKED' });
      expectError(await query(alice.token, ds.id, { sql: 'select 1' }), 400, 'SSRF_BLOCKED');
    }
    const r = await create(alice.token, { name: 'inside', type: 'redis', config: { host: '192.168.1.2' } });
    expectError(await query(alice.token, r.id, { command: 'GET', args: ['k'] }), 400, 'SSRF_BLOCKED');
    const s3 = await create(alice.token, { name: 'meta', type: 's3', config: { endpoint: 'http://169.254.169.254', bucket: 'b' }, credentials: { access_key_id: 'a', secret_access_key: 'b' } });
    expectError(await query(alice.token, s3.id, { action: 'list' }), 400, 'SSRF_BLOCKED');
  });
});
