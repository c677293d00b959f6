import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { hasPermission } from '../../identity/permissions/authorize';

/** What the monitoring endpoints aggregate: every figure comes from a recorded table (see ./store.ts). */


export interface Scope {
  /** `all` with monitoring:read (admins), else `own`: only the caller's data. */
  scope: 'all' | 'own';
  userId: string;
}

export async function scopeOf(env: Env, user: AuthUser): Promise<Scope> {
  const all = await hasPermission(env, user, 'monitoring:read');
  return { scope: all ? 'all' : 'own', userId: user.id };
}

/** The user whose data the own scope narrows to; undefined for the all scope. */
export const ownerOf = (s: Scope): string | undefined => (s.scope === 'own' ? s.userId : undefined);

export const startOfTodayUtc = () => new Date().toISOString().slice(0, 10) + 'T00:00:00.000Z';

/** Every UTC date from `from` to `to`, so a daily series has a row (a real zero) for each day. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = new Date(to).getTime();
  for (let t = Date.parse(from.slice(0, 10) + 'T00:00:00Z'); t < end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
