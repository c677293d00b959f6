import { createMiddleware } from 'hono/factory';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from './context';
import { ApiError } from './errors';
import { assertConfigured } from './secrets';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * X-Request-Id on every response (the caller's when it sent a sane one) and one JSON log line
 * per request: the system-logs module reads these.
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header('X-Request-Id');
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set('requestId', requestId);
  const started = Date.now();
  await next();
  c.header('X-Request-Id', requestId);
  console.log(
    JSON.stringify({
      type: 'request',
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Date.now() - started,
      user_id: c.get('user')?.id ?? null,
    }),
  );
});

/** Production refuses to serve until its secrets are set. */
export const requireConfiguration = createMiddleware<AppEnv>(async (c, next) => {
  assertConfigured(c.env);
  await next();
});

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

export const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BODY_BYTES,
  onError: () => {
    throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${MAX_JSON_BODY_BYTES} bytes`);
  },
});
