import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CREDENTIAL_CACHE_TTL_MS } from '../../../src/modules/identity/auth/guard';
import { isolateCacheClock } from '../../../src/lib/isolate-cache';
import { api, createUser, expectError } from '../../support/helpers';

const password = 'correct horse battery';

describe('POST /auth/register', () => {
  it('first user is admin, later ones user; no hash in the answer', async () => {
    const first = await api('/api/v1/auth/register', { json: { email: 'Boss@Example.com', password, nickname: 'Boss' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ email: 'boss@example.com', nickname: 'Boss', role: 'admin', status: 'active' });
    expect(first.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.text).not.toMatch(/password|pbkdf2/);
    const second = await api('/api/v1/auth/register', { json: { email: 'two@example.com', password, nickname: 'Two' } });
    expect(second.body.role).toBe('user');
  });

  it('409 for an email taken in any case', async () => {
    await api('/api/v1/auth/register', { json: { email: 'dup@example.com', password, nickname: 'a' } });
    const res = await api('/api/v1/auth/register', { json: { email: 'DUP@example.com', password, nickname: 'b' } });
    expectError(res, 409, 'CONFLICT');
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM users WHERE lower(email) = 'dup@example.com'").first<{ n: number }>())!;
    expect(n).toBe(1);
  });

  it('validates password length, nickname and email', async () => {
    expect(expectError(await api('/api/v1/auth/register', { json: { email: 'a@example.com', password: 'short', nickname: 'a' } }), 422).message).toContain('body.password');
    expect(expectError(await api('/api/v1/auth/register', { json: { email: 'a@example.com', password, nickname: '' } }), 422).message).toContain('body.nickname');
    expect(expectError(await api('/api/v1/auth/register', { json: { email: 'a@example.com', password, nickname: 'x'.repeat(65) } }), 422).message).toContain('body.nickname');
    expect(expectError(await api('/api/v1/auth/register', { json: { password, nickname: 'a' } }), 422).message).toContain('body.email');
  });

  it('ignores a role in the body', async () => {
    await createUser('first');
    const res = await api('/api/v1/auth/register', { json: { email: 'sneaky@example.com', password, nickname: 's', role: 'admin' } });
    expect(res.status).toBe(201);
    expect(res.body.role).toBe('user');
  });

  it('stores PBKDF2 hashes with their parameters', async () => {
    const u = await createUser();
    const row = await env.DB.prepare('SELECT password_hash FROM users WHERE id = ?').bind(u.id).first<{ password_hash: string }>();
    expect(row!.password_hash).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
  });
});

describe('POST /auth/login', () => {
  it('accepts the OAuth2 password form', async () => {
    const u = await createUser();
    const res = await api('/api/v1/auth/login', {
      body: new URLSearchParams({ username: u.email, password }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('bearer');
    const me = await api('/api/v1/auth/me', { token: res.body.access_token });
    expect(me.body.id).toBe(u.id);
  });

  it('issues HS256 tokens with sub, iat, exp (24 h) and jti', async () => {
    const u = await createUser();
    const [header, payload] = u.token.split('.').slice(0, 2).map((p) => JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/'))));
    expect(header.alg).toBe('HS256');
    expect(payload.sub).toBe(u.id);
    expect(payload.exp - payload.iat).toBe(86400);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('same 401 for unknown email and wrong password', async () => {
    const u = await createUser();
    const wrong = expectError(await api('/api/v1/auth/login', { json: { username: u.email, password: 'wrong password' } }), 401, 'UNAUTHORIZED');
    const unknown = expectError(await api('/api/v1/auth/login', { json: { username: 'nobody@example.com', password } }), 401, 'UNAUTHORIZED');
    expect(wrong.message).toBe(unknown.message);
  });

  it('422 when fields are missing', async () => {
    expectError(await api('/api/v1/auth/login', { json: { username: 'x@example.com' } }), 422, 'VALIDATION_ERROR');
    expectError(await api('/api/v1/auth/login', { method: 'POST' }), 422, 'VALIDATION_ERROR');
  });

  it('locks an email after 10 failures in 15 minutes, even for the right password; success resets', async () => {
    const u = await createUser();
    for (let i = 0; i < 9; i++) expectError(await api('/api/v1/auth/login', { json: { username: u.email, password: 'nope nope' } }), 401);
    // A success before the limit resets the counter.
    expect((await api('/api/v1/auth/login', { json: { username: u.email, password } })).status).toBe(200);
    for (let i = 0; i < 10; i++) expectError(await api('/api/v1/auth/login', { json: { username: u.email, password: 'nope nope' } }), 401);
    const locked = await api('/api/v1/auth/login', { json: { username: u.email, password } });
    expectError(locked, 429, 'RATE_LIMITED');
    expect(Number(locked.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Once the window has passed, the user can log in again.
    await env.DB.prepare('UPDATE login_attempts SET attempted_at = attempted_at - ? WHERE email = ?').bind(16 * 60 * 1000, u.email).run();
    expect((await api('/api/v1/auth/login', { json: { username: u.email, password } })).status).toBe(200);
  });
});

describe('GET /auth/me', () => {
  it('answers the current user', async () => {
    const u = await createUser();
    const res = await api('/api/v1/auth/me', { token: u.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, email: u.email });
  });

  it('401 for missing, malformed, wrongly signed, expired and alg:none tokens', async () => {
    const u = await createUser();
    expectError(await api('/api/v1/auth/me'), 401, 'UNAUTHORIZED');
    expectError(await api('/api/v1/auth/me', { token: 'not.a.jwt' }), 401, 'UNAUTHORIZED');
    expectError(await api('/api/v1/auth/me', { headers: { Authorization: 'Basic abc' } }), 401, 'UNAUTHORIZED');
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(u.id).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode('another secret'));
    expectError(await api('/api/v1/auth/me', { token: forged }), 401);
    const secret = (await env.DB.prepare("SELECT value FROM system_settings WHERE key = 'dev_secret:JWT_SECRET'").first<{ value: string }>())!.value;
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(u.id).setIssuedAt(1000).setExpirationTime(2000).sign(new TextEncoder().encode(secret));
    expectError(await api('/api/v1/auth/me', { token: expired }), 401);
    const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: u.id, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
    expectError(await api('/api/v1/auth/me', { token: none }), 401);
    const valid = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(u.id).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(secret));
    expect((await api('/api/v1/auth/me', { token: valid })).status).toBe(200);
  });

  it("a disabled user's token stops working", async () => {
    const u = await createUser();
    await env.DB.prepare("UPDATE users SET status = 'disabled' WHERE id = ?").bind(u.id).run();
    expectError(await api('/api/v1/auth/me', { token: u.token }), 401);
    expectError(await api('/api/v1/auth/login', { json: { username: u.email, password } }), 401);
  });
});

describe('the credential cache (per isolate)', () => {
  afterEach(() => vi.restoreAllMocks());
  const me = (token: string) => api('/api/v1/auth/me', { token });
  /** Moves the caches' clock to `ms` after now (no sleeping). */
  const clockAt = (ms: number) => vi.spyOn(isolateCacheClock, 'now').mockReturnValue(Date.now() + ms);

  it('serves a user disabled behind its back (D1 directly) until the bound, then refuses the token', async () => {
    const u = await createUser();
    expect((await me(u.token)).status).toBe(200);
    await env.DB.prepare("UPDATE users SET status = 'disabled' WHERE id = ?").bind(u.id).run();
    // The documented staleness: within CREDENTIAL_CACHE_TTL_MS this isolate still knows the user as active.
    clockAt(CREDENTIAL_CACHE_TTL_MS - 5_000);
    const stale = await me(u.token);
    expect(stale.status).toBe(200);
    // GET /auth/me answers from what the credential check read: the user as it was.
    expect(stale.body).toMatchObject({ id: u.id, email: u.email, status: 'active' });
    clockAt(CREDENTIAL_CACHE_TTL_MS + 1);
    expectError(await me(u.token), 401, 'UNAUTHORIZED');
    // A refused user is not cached: enabled again, the token works on the next request.
    await env.DB.prepare("UPDATE users SET status = 'active' WHERE id = ?").bind(u.id).run();
    expect((await me(u.token)).status).toBe(200);
  });

  it('a role changed behind its back (D1 directly) applies after the bound (through the API: at once, see permissions)', async () => {
    const u = await createUser();
    expect((await me(u.token)).body.role).toBe('user');
    // permissions:manage (admins only here) answers another user's roles; others get 404.
    const other = await createUser();
    const rolesOfOther = () => api(`/api/v1/permissions/users/${other.id}/roles`, { token: u.token });
    expectError(await rolesOfOther(), 404);
    await env.DB.prepare("UPDATE users SET role = 'admin' WHERE id = ?").bind(u.id).run();
    clockAt(CREDENTIAL_CACHE_TTL_MS - 5_000);
    expectError(await rolesOfOther(), 404);
    clockAt(CREDENTIAL_CACHE_TTL_MS + 1);
    expect((await rolesOfOther()).status).toBe(200);
  });

  it('an expired token is refused even while its verification is cached', async () => {
    const u = await createUser();
    const secret = (await env.DB.prepare("SELECT value FROM system_settings WHERE key = 'dev_secret:JWT_SECRET'").first<{ value: string }>())!.value;
    const now = Math.floor(Date.now() / 1000);
    const short = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(u.id).setIssuedAt(now).setExpirationTime(now + 2).sign(new TextEncoder().encode(secret));
    expect((await me(short)).status).toBe(200);
    // The cached verification is fresh (the caches' clock stays), the token's own time has come.
    vi.spyOn(isolateCacheClock, 'now').mockReturnValue(Date.now());
    vi.spyOn(Date, 'now').mockReturnValue((now + 3) * 1000);
    expectError(await me(short), 401, 'UNAUTHORIZED');
  });
});
