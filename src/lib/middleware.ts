import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { bodyLimit } from 'hono/body-limit';
import { requestUserId, type AppEnv } from './context';
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
  setResponseHeader(c, 'X-Request-Id', requestId);
  console.log(
    JSON.stringify({
      type: 'request',
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Date.now() - started,
      user_id: requestUserId(c),
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

/**
 * Sets a header on the finished response. In place where the response allows it (those the app
 * makes): `c.header()` after `next()` copies the whole Response first, a cost on every request.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value); // immutable headers (a fetched response): Hono copies it
  }
}

/** The response header carrying the request's D1 bookmark, and the request header to send it back in. */
export const D1_BOOKMARK_HEADER = 'X-D1-Bookmark';

// D1 bookmarks are hex groups joined by dashes (`00000000-00000021-00000000-0000…`); anything else is ignored.
const BOOKMARK = /^[0-9a-f]{1,64}(?:-[0-9a-f]{1,64}){1,7}$/i;
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Reads from the nearest D1 replica (D1 read replication through the Sessions API). Each API
 * request runs over its own session (`c.env.DB` is the session for the request):
 *   - a read (GET, HEAD) starts at the client's bookmark (`X-D1-Bookmark`, from an earlier
 *     answer) so it sees at least what the client saw or wrote, else anywhere
 *     (`first-unconstrained`: the nearest replica);
 *   - any other method starts at the primary (`first-primary`): it writes there anyway, and its
 *     checks before the write (authorization, uniqueness, state) then read the newest data. The
 *     primary is at least as new as any bookmark, so the client's is not needed.
 * Every answer carries the session's bookmark after the request's queries, for the client's next
 * request (the client's own back when no query ran; none when neither exists). A malformed bookmark is ignored (the read goes anywhere and its answer carries a good
 * one): refusing it would add a 400 to every operation for a header that only orders reads.
 * Without replication enabled every session is the primary and bookmarks still work.
 */
export const d1Session = createMiddleware<AppEnv>(async (c, next) => {
  const sent = c.req.header(D1_BOOKMARK_HEADER);
  const bookmarkSent = sent !== undefined && BOOKMARK.test(sent) ? sent : undefined;
  const isRead = READ_METHODS.has(c.req.method);
  const session = c.env.DB.withSession(isRead ? (bookmarkSent ?? 'first-unconstrained') : 'first-primary');
  // The session has prepare() and batch(), all the stores and drizzle use of a D1 binding.
  c.env = { ...c.env, DB: session as unknown as D1Database };
  await next();
  // A request that made no query (served from a cache) hands the client's bookmark back.
  const bookmark = session.getBookmark() ?? bookmarkSent;
  if (bookmark) setResponseHeader(c, D1_BOOKMARK_HEADER, bookmark);
});
