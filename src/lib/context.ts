import type { Context } from 'hono';
import type { Env } from '../env';
import type { AuthUser } from './auth';

/** Per-request values set by middleware. */
export interface Variables {
  requestId: string;
  user: AuthUser;
  /** Set by requireAuth: when the user's account was created, read with the credential (GET /auth/me needs no query). */
  userCreatedAt?: string;
  /** Set by requireAuthDeferred: the access token's user, whose row the handler's checks read (deferredCaller). */
  pendingUserId?: string;
  /** An unhandled error of this request (set by onError), for the system log. */
  error?: { message: string; stack?: string };
}

export type AppEnv = { Bindings: Env; Variables: Variables };

/** Who the request is from, for its log lines: the checked user, or the token's user whose row the handler's checks read. */
export const requestUserId = (c: Context<AppEnv>): string | null => c.get('user')?.id ?? c.get('pendingUserId') ?? null;
