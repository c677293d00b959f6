import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/errors';
import { checkOutboundUrl, guardedFetch } from '../src/lib/outbound';

function blocked(url: string, e: typeof env = env) {
  try {
    checkOutboundUrl(e, url);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('SSRF_BLOCKED');
    return true;
  }
  return false;
}

describe('SSRF guard', () => {
  it.each([
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://[::]/',
    'http://0.0.0.0/',
    'http://10.1.2.3/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://224.0.0.1/',
    'http://metadata.google.internal/',
    'http://localhost/',
    'http://LOCALHOST./',
    'http://api.localhost/',
    'http://db.internal/',
    'http://intranet/',
    'ftp://example.com/',
    'file:///etc/passwd',
    'http://example.com:22/',
  ])('blocks %s', (url) => {
    expect(blocked(url)).toBe(true);
  });

  it.each(['https://example.com/', 'http://93.184.216.34/', 'https://[2606:4700::1111]/', 'https://api.openai.com:443/v1'])('allows %s', (url) => {
    expect(blocked(url)).toBe(false);
  });

  it('honours the port allowlist and test host exemptions, but never exemptions in production', () => {
    expect(blocked('http://example.com:8080/', { ...env, OUTBOUND_ALLOWED_PORTS: '8080' })).toBe(false);
    expect(blocked('http://127.0.0.1:9999/', { ...env, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1:9999' })).toBe(false);
    expect(blocked('http://127.0.0.1:9998/', { ...env, OUTBOUND_ALLOWED_HOSTS: '127.0.0.1:9999' })).toBe(true);
    expect(blocked('http://127.0.0.1:9999/', { ...env, ENVIRONMENT: 'production', OUTBOUND_ALLOWED_HOSTS: '127.0.0.1:9999' })).toBe(true);
  });

  it('guardedFetch refuses before any request is made', async () => {
    await expect(guardedFetch(env, 'http://169.254.169.254/')).rejects.toMatchObject({ code: 'SSRF_BLOCKED', status: 400 });
  });

  it('fetches an exempt test host, follows and re-checks redirects, caps size and time', async () => {
    const base = env.FAKE_BASE_URL;
    const echo = await guardedFetch(env, `${base}/basic/echo`, { method: 'POST', body: 'hi', headers: { Cookie: 'session=1', 'X-Custom': 'kept' } });
    const seen = (await echo.json()) as { body: string; headers: Record<string, string> };
    expect(seen.body).toBe('hi');
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers.cookie).toBeUndefined();

    const hop = await guardedFetch(env, `${base}/basic/redirect?to=/basic/echo%3Fhop%3D1`);
    expect(((await hop.json()) as { query: Record<string, string> }).query).toEqual({ hop: '1' });

    await expect(guardedFetch(env, `${base}/basic/redirect?to=${encodeURIComponent('http://169.254.169.254/')}`)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
    const loop = `${base}/basic/redirect?to=${encodeURIComponent('/basic/redirect?to=/basic/redirect')}`;
    await expect(guardedFetch(env, loop, {}, { maxRedirects: 1 })).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });

    await expect(guardedFetch(env, `${base}/basic/big?bytes=5000`, {}, { maxBytes: 1000 }).then((r) => r.text())).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    await expect(guardedFetch(env, `${base}/basic/slow?ms=1500`, {}, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT', status: 504 });
  });
});
