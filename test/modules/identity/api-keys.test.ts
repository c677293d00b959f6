import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CREDENTIAL_CACHE_TTL_MS } from '../../../src/modules/identity/auth/guard';
import { isolateCacheClock } from '../../../src/lib/isolate-cache';
import { api, createUser, expectError } from '../../support/helpers';

describe('/api-keys', () => {
  it('creates a key shown once, usable as a Bearer credential, stored only as a hash', async () => {
    const u = await createUser();
    const created = await api('/api/v1/api-keys', { token: u.token, json: { name: 'ci bot', id: 'ignored', user_id: 'ignored' } });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^tg_[a-z2-7]{40}$/);
    expect(created.body).toMatchObject({ name: 'ci bot', status: 'active', expires_at: null, revoked_at: null });
    expect(created.body.key_hint).toBe(created.body.key.slice(0, 11) + '…');

    const me = await api('/api/v1/auth/me', { token: created.body.key });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(u.id);

    const row = await env.DB.prepare('SELECT * FROM api_keys WHERE id = ?').bind(created.body.id).first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain(created.body.key);
    expect(row!.user_id).toBe(u.id);
    expect(row!.last_used_at).not.toBeNull();

    const list = await api('/api/v1/api-keys', { token: u.token });
    expect(list.body.total).toBe(1);
    expect(list.text).not.toContain(created.body.key);
    expect(list.body.items[0]).not.toHaveProperty('key');
  });

  it('revocation takes effect at once; other users cannot revoke', async () => {
    const u = await createUser();
    const other = await createUser();
    const { body } = await api('/api/v1/api-keys', { token: u.token, json: { name: 'k' } });
    expectError(await api(`/api/v1/api-keys/${body.id}`, { method: 'DELETE', token: other.token }), 404, 'NOT_FOUND');
    expect((await api('/api/v1/auth/me', { token: body.key })).status).toBe(200);
    const revoked = await api(`/api/v1/api-keys/${body.id}`, { method: 'DELETE', token: u.token });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    expectError(await api('/api/v1/auth/me', { token: body.key }), 401, 'UNAUTHORIZED');
    expectError(await api('/api/v1/api-keys/00000000-0000-4000-8000-000000000000', { method: 'DELETE', token: u.token }), 404);
  });

  it('expired keys and keys of disabled users stop working', async () => {
    const u = await createUser();
    const { body } = await api('/api/v1/api-keys', { token: u.token, json: { name: 'short', expires_in_days: 1 } });
    expect(body.expires_at).toBeTruthy();
    await env.DB.prepare("UPDATE api_keys SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?").bind(body.id).run();
    expectError(await api('/api/v1/auth/me', { token: body.key }), 401);
    const listed = await api('/api/v1/api-keys', { token: u.token });
    expect(listed.body.items[0].status).toBe('expired');

    const fresh = await api('/api/v1/api-keys', { token: u.token, json: { name: 'fresh' } });
    await env.DB.prepare("UPDATE users SET status = 'disabled' WHERE id = ?").bind(u.id).run();
    expectError(await api('/api/v1/auth/me', { token: fresh.body.key }), 401);
  });

  it('validates input and requires auth', async () => {
    const u = await createUser();
    expect(expectError(await api('/api/v1/api-keys', { token: u.token, json: { name: '' } }), 422).message).toContain('body.name');
    expectError(await api('/api/v1/api-keys', { token: u.token, json: { name: 'x', expires_in_days: 0 } }), 422);
    expectError(await api('/api/v1/api-keys', { json: { name: 'x' } }), 401);
    expectError(await api('/api/v1/auth/me', { token: 'tg_' + 'a'.repeat(40) }), 401);
  });

  describe('the credential cache (per isolate)', () => {
    afterEach(() => vi.restoreAllMocks());

    it('a key revoked behind its back (D1 directly) works until the bound, then is refused; an expiry is kept', async () => {
      const u = await createUser();
      const { body } = await api('/api/v1/api-keys', { token: u.token, json: { name: 'cached' } });
      expect((await api('/api/v1/auth/me', { token: body.key })).status).toBe(200);
      await env.DB.prepare("UPDATE api_keys SET revoked_at = '2026-01-01T00:00:00.000Z' WHERE id = ?").bind(body.id).run();
      vi.spyOn(isolateCacheClock, 'now').mockReturnValue(Date.now() + CREDENTIAL_CACHE_TTL_MS - 5_000);
      expect((await api('/api/v1/auth/me', { token: body.key })).status).toBe(200);
      vi.spyOn(isolateCacheClock, 'now').mockReturnValue(Date.now() + CREDENTIAL_CACHE_TTL_MS + 1);
      expectError(await api('/api/v1/auth/me', { token: body.key }), 401, 'UNAUTHORIZED');
    });

    it('a cached key stops at its expiry', async () => {
      const u = await createUser();
      const { body } = await api('/api/v1/api-keys', { token: u.token, json: { name: 'a day', expires_in_days: 1 } });
      expect((await api('/api/v1/auth/me', { token: body.key })).status).toBe(200);
      // The entry is fresh (the caches' clock stays), the key's own time has come.
      vi.spyOn(isolateCacheClock, 'now').mockReturnValue(Date.now());
      vi.spyOn(Date, 'now').mockReturnValue(Date.parse(body.expires_at) + 1);
      expectError(await api('/api/v1/auth/me', { token: body.key }), 401, 'UNAUTHORIZED');
    });
  });

  describe('reads from the nearest D1 replica (Sessions API, X-D1-Bookmark)', () => {
    afterEach(() => vi.restoreAllMocks());
    const BOOKMARK = /^[0-9a-f]+(-[0-9a-f]+)+$/;

    it('a write starts at the primary; its bookmark, sent back, makes the next read see the write', async () => {
      const u = await createUser();
      const sessions = vi.spyOn(env.DB, 'withSession');
      // The client's bookmark does not matter to a write: it starts at the primary.
      const created = await api('/api/v1/api-keys', { token: u.token, json: { name: 'replicated' }, headers: { 'X-D1-Bookmark': '00000000-00000001-00000000-00000000' } });
      expect(created.status).toBe(201);
      expect(sessions.mock.calls.at(-1)).toEqual(['first-primary']);
      const bookmark = created.headers.get('X-D1-Bookmark')!;
      expect(bookmark).toMatch(BOOKMARK);

      const listed = await api('/api/v1/api-keys', { token: u.token, headers: { 'X-D1-Bookmark': bookmark } });
      expect(sessions.mock.calls.at(-1)).toEqual([bookmark]);
      expect(listed.status).toBe(200);
      expect(listed.body.items.map((k: { id: string }) => k.id)).toEqual([created.body.id]);
      // The read's answer carries a bookmark at least as new, for the request after it.
      expect(listed.headers.get('X-D1-Bookmark')! >= bookmark).toBe(true);
    });

    it('a read without a bookmark, or with a malformed one (ignored), goes to any replica', async () => {
      const u = await createUser();
      const sessions = vi.spyOn(env.DB, 'withSession');
      for (const sent of [undefined, 'first-primary', 'x'.repeat(40), '00000000-0000000g']) {
        const listed = await api('/api/v1/api-keys', { token: u.token, headers: sent ? { 'X-D1-Bookmark': sent } : {} });
        expect(listed.status).toBe(200);
        expect(sessions.mock.calls.at(-1)).toEqual(['first-unconstrained']);
        expect(listed.headers.get('X-D1-Bookmark')).toMatch(BOOKMARK);
      }
      // GET /auth/me answers from the credential cache, no query: the client's bookmark comes back.
      const bookmark = '00000000-00000001-00000000-00000000';
      expect((await api('/api/v1/auth/me', { token: u.token, headers: { 'X-D1-Bookmark': bookmark } })).headers.get('X-D1-Bookmark')).toBe(bookmark);
    });
  });
});
