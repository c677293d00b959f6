// A small client for scenario set-up (register, log in, create resources).
export async function api(base, path, { method, json, token, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (json !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(base + path, { method: method ?? (json !== undefined ? 'POST' : 'GET'), headers: h, body: json !== undefined ? JSON.stringify(json) : undefined });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {}
  if (!res.ok) throw new Error(`${method ?? 'GET'} ${path} → ${res.status}: ${text}`);
  return body;
}

let n = 0;
/** A fresh user with a token. */
export async function newUser(ctx, prefix = 'bench') {
  const email = `${prefix}${++n}-${Date.now()}@example.com`;
  const password = 'bench password 1';
  const user = await ctx.api('/api/v1/auth/register', { json: { email, password, nickname: prefix } });
  const { access_token } = await ctx.api('/api/v1/auth/login', { json: { username: email, password } });
  return { ...user, token: access_token };
}
