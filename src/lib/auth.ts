import { createMiddleware } from 'hono/factory';
import type { AppEnv, Env } from '../env';
import { unauthorized } from './errors';
import { verifyAccessToken } from './jwt';

export interface AuthUser {
  id: string;
  email: string;
  nickname: string;
  role: 'admin' | 'user';
}

export const isAdmin = (user: AuthUser) => user.role === 'admin';

/** The active user a token names; null when the token is invalid or the user disabled or gone. */
export async function authenticate(env: Env, token: string | undefined | null): Promise<AuthUser | null> {
  if (!token) return null;
  const userId = await verifyAccessToken(env, token);
  if (!userId) return null;
  const user = await env.DB.prepare(
    "SELECT id, email, nickname, role FROM users WHERE id = ? AND status = 'active'",
  )
    .bind(userId)
    .first<AuthUser>();
  return user ?? null;
}

export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/** The one auth middleware: `Authorization: Bearer <JWT>` → `c.get('user')`, else 401. */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const user = await authenticate(c.env, bearerToken(c.req.header('Authorization')));
  if (!user) throw unauthorized('Missing, invalid or expired access token');
  c.set('user', user);
  await next();
});

/** The OpenAPI security requirement of routes behind `requireAuth`. */
export const bearerSecurity = [{ bearerAuth: [] }];
