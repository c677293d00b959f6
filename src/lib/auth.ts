/** Who a request acts for, and how credentials look: no table access (the identity module owns users and keys). */

export interface AuthUser {
  id: string;
  email: string;
  nickname: string;
  role: 'admin' | 'user';
  /** How the request authenticated: an access token (JWT) or an API key. */
  auth_method?: 'jwt' | 'api_key';
}

/** API keys look like `tg_<40 base32 chars>`; anything else is treated as a JWT. */
export const API_KEY_PREFIX = 'tg_';

export const isAdmin = (user: AuthUser) => user.role === 'admin';

export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/** The OpenAPI security requirement of routes behind the auth middleware. */
export const bearerSecurity = [{ bearerAuth: [] }];

/** What a request whose credential does not hold (missing, invalid, expired, or its user no longer active) is told. */
export const UNAUTHORIZED_MESSAGE = 'Missing, invalid or expired access token';
