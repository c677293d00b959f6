import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/lib/errors';
import { checkOutboundUrl, guardedFetch } from '../../src/lib/outbound';

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

describe('SSRF guard: the full list', () => {
  it.each([
    // every spelling of loopback
    ['decimal', 'http://2130706433/'],
    ['octal', 'http://0177.0.0.1/'],
    ['octal per octet', 'http://0177.00.00.01/'],
    ['hex', 'http://0x7f.1/'],
    ['hex whole', 'http://0x7f000001/'],
    ['hex dotted', 'http://0x7f.0x0.0x0.0x1/'],
    ['short', 'http://127.1/'],
    ['padded', 'http://127.000.000.001/'],
    ['other loopback', 'http://127.8.9.10/'],
    ['IPv4-mapped', 'http://[::ffff:127.0.0.1]/'],
    ['IPv4-mapped long form', 'http://[0:0:0:0:0:ffff:7f00:1]/'],
    ['IPv4-compatible', 'http://[::127.0.0.1]/'],
    ['IPv6 loopback long form', 'http://[0000:0000:0000:0000:0000:0000:0000:0001]/'],
    // private, link-local, CGNAT, multicast, unspecified, reserved
    ['private as decimal', 'http://3232235777/'],
    ['private 172.31', 'http://172.31.255.255/'],
    ['CGNAT', 'http://100.127.0.1/'],
    ['link-local', 'http://169.254.1.1/'],
    ['metadata via mapped IPv6', 'http://[::ffff:169.254.169.254]/'],
    ['metadata as decimal', 'http://2852039166/'],
    ['multicast', 'http://239.255.255.250/'],
    ['broadcast', 'http://255.255.255.255/'],
    ['unspecified short', 'http://0/'],
    ['IPv6 ULA', 'http://[fc00::1]/'],
    ['IPv6 link-local', 'http://[fe80::abcd]/'],
    ['IPv6 site-local', 'http://[fec0::1]/'],
    ['IPv6 multicast', 'http://[ff02::1]/'],
    ['NAT64 of loopback', 'http://[64:ff9b::7f00:1]/'],
    ['6to4', 'http://[2002:7f00:1::]/'],
    ['Teredo', 'http://[2001:0:4136:e378::1]/'],
    // names
    ['metadata name', 'http://metadata.google.internal/computeMetadata/v1/'],
    ['metadata name with trailing dot', 'http://metadata.google.internal./'],
    ['localhost subdomain', 'http://evil.localhost/'],
    ['internal suffix', 'http://vault.service.internal/'],
    ['mDNS', 'http://printer.local/'],
    ['single label', 'http://router/'],
    ['userinfo trick', 'http://example.com@127.0.0.1/'],
    // schemes and ports
    ['gopher', 'gopher://example.com/'],
    ['data', 'data:text/plain,hi'],
    ['javascript', 'javascript:alert(1)'],
    ['ws', 'ws://example.com/'],
    ['ssh port', 'https://example.com:22/'],
    ['redis port', 'http://example.com:6379/'],
    ['not a URL', 'not a url'],
  ])('blocks %s: %s', (_label, url) => {
    expect(blocked(url)).toBe(true);
  });

  it.each(['http://example.com:80/', 'https://example.com:443/', 'https://sub.example.co.uk/path?q=1', 'http://127.0.0.1.example.com/', 'https://[2001:4860:4860::8888]/'])('allows %s', (url) => {
    expect(blocked(url)).toBe(false);
  });

  it('gives a clear 400 SSRF_BLOCKED with the reason', () => {
    try {
      checkOutboundUrl(env, 'http://0x7f.1/');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ status: 400, code: 'SSRF_BLOCKED' });
      expect((e as ApiError).message).toContain('127.0.0.1 is a loopback address');
    }
  });

  it('follows at most 5 redirects by default, each hop checked', async () => {
    const base = env.FAKE_BASE_URL;
    const chain = (n: number): string => (n === 0 ? '/basic/echo?end=1' : `/basic/redirect?to=${encodeURIComponent(chain(n - 1))}`);
    const five = await guardedFetch(env, base + chain(5));
    expect(((await five.json()) as { query: Record<string, string> }).query).toEqual({ end: '1' });
    await expect(guardedFetch(env, base + chain(6))).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringContaining('More than 5 redirects') });
    // A hop to an internal name or a disallowed scheme is refused too.
    await expect(guardedFetch(env, `${base}/basic/redirect?to=${encodeURIComponent('http://metadata.google.internal/')}`)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
    await expect(guardedFetch(env, `${base}/basic/redirect?to=${encodeURIComponent('file:///etc/passwd')}`)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
  });

  it('drops Authorization when a redirect changes origin, and never forwards cookies or client IP headers', async () => {
    const port = new URL(env.FAKE_BASE_URL).port;
    const twoOrigins = { ...env, OUTBOUND_ALLOWED_HOSTS: `127.0.0.1:${port},localhost:${port}` };
    const other = `http://localhost:${port}/basic/echo`;
    const res = await guardedFetch(twoOrigins, `${env.FAKE_BASE_URL}/basic/redirect?to=${encodeURIComponent(other)}`, {
      headers: { Authorization: 'Bearer user-secret', 'X-Forwarded-For': '10.0.0.1', 'CF-Connecting-IP': '1.2.3.4' },
    });
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBeUndefined();
    expect(seen.headers['cf-connecting-ip']).toBeUndefined();
    // Same origin keeps the caller's own Authorization (it chose to send it there).
    const same = await guardedFetch(env, `${env.FAKE_BASE_URL}/basic/redirect?to=/basic/echo`, { headers: { Authorization: 'Bearer mine' } });
    expect(((await same.json()) as { headers: Record<string, string> }).headers.authorization).toBe('Bearer mine');
  });

  it("a tool request never carries the platform's own credentials", async () => {
    const { api, createUser } = await import('../support/helpers');
    const user = await createUser('creds');
    const res = await api('/api/v1/tools/http_request/use', { token: user.token, json: { arguments: { url: `${env.FAKE_BASE_URL}/basic/echo` } } });
    expect(res.status, res.text).toBe(200);
    const headers = res.body.output.body.headers as Record<string, string>;
    expect(headers.authorization).toBeUndefined();
    expect(JSON.stringify(headers)).not.toContain(user.token);
  });

  it('caps the size of response bodies exactly at the limit', async () => {
    await expect(guardedFetch(env, `${env.FAKE_BASE_URL}/basic/big?bytes=4096`, {}, { maxBytes: 1024 }).then((r) => r.text())).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringContaining('exceeds 1024 bytes') });
    const ok = await guardedFetch(env, `${env.FAKE_BASE_URL}/basic/big?bytes=1024`, {}, { maxBytes: 1024 });
    expect((await ok.text()).length).toBe(1024);
  });
});
