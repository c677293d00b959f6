import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from './context';
import { ApiError } from './errors';

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_ERROR',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** The one error handler: every failure leaves as `{"error": CODE, "message"}`. */
export function onError(err: Error, c: Context<AppEnv>) {
  if (err instanceof ApiError) {
    if (err.headers) for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    return c.json({ error: err.code, message: err.message }, err.status);
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    return c.json({ error: CODES[status] ?? 'ERROR', message: err.message || 'Request failed' }, status);
  }
  c.set('error', { message: String(err), stack: err?.stack });
  console.error(
    JSON.stringify({
      type: 'error',
      request_id: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      error: String(err),
      stack: err?.stack,
    }),
  );
  return c.json({ error: 'INTERNAL_ERROR', message: 'An unexpected error occurred' }, 500);
}
