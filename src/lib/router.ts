import { OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import type { AppEnv } from './context';
import { validationError } from './errors';
import { MAX_JSON_BODY_BYTES } from './middleware';
import { errorResponse, errorResponses } from './schemas';

/** `body.email: Invalid email address; query.page: ...` — names every failing field. */
export function describeZodError(target: string, error: ZodError): string {
  const prefix = target === 'json' || target === 'form' ? 'body' : target;
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].join('.');
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

/** The one way to make a router: validation failures become 422 VALIDATION_ERROR. */
export function createRouter() {
  const router = new OpenAPIHono<AppEnv>({
    strict: false,
    defaultHook: (result) => {
      if (!result.success) throw validationError(describeZodError(result.target, result.error));
    },
  });
  // Every route registered here documents the statuses the stack answers before its handler runs.
  const register = router.openapi;
  router.openapi = ((route: RouteConfig, handler: never, hook: never) => register(withStackResponses(route), handler, hook)) as typeof router.openapi;
  return router;
}

export type AppRouter = ReturnType<typeof createRouter>;

type Responses = RouteConfig['responses'];

/**
 * A route's responses plus the ones answered for it before its handler runs, where the route does
 * not describe them itself: 401 behind auth; 400 (malformed), 415 (wrong Content-Type) and 422 with
 * a body the router validates (a zod schema), 413 with a JSON body (the app's body limit); 422 with
 * a query, header or path parameter that a request can fail; 500 everywhere. Idempotent.
 */
export function withStackResponses<R extends RouteConfig>(route: R): R {
  const stack: Responses = {};
  const request = route.request;
  const content = request?.body?.content ?? {};
  const bodyTypes = Object.keys(content);
  const validatedBody = bodyTypes.some((type) => /json|form/i.test(type) && isZodSchema(content[type]));
  if (route.security?.length) stack[401] = errorResponses[401];
  // Any operation can fail unexpectedly (a storage error): INTERNAL_ERROR, no internals.
  stack[500] = errorResponse('Internal error');
  if (validatedBody) {
    stack[400] = errorResponse('Malformed body (not valid JSON, or a form that cannot be parsed)');
    stack[415] = errorResponse(`Content-Type is not ${bodyTypes.join(' or ')}`);
    stack[422] = errorResponses[422];
  }
  if (bodyTypes.some((type) => /json/i.test(type))) stack[413] = errorResponse(`JSON body over ${MAX_JSON_BODY_BYTES} bytes`);
  const parts = [request?.query, request?.headers, request?.cookies].filter((p) => p !== undefined);
  if (parts.some((p) => canFail(p, false)) || (request?.params && canFail(request.params, true))) stack[422] = errorResponses[422];
  const missing = Object.entries(stack).filter(([status]) => !(status in route.responses));
  if (missing.length === 0) return route;
  return { ...route, responses: { ...route.responses, ...Object.fromEntries(missing) } };
}

const isZodSchema = (media: unknown) => (media as { schema?: unknown } | undefined)?.schema instanceof z.ZodType;

const UNCONSTRAINING = new Set(['$schema', 'type', 'minLength', 'description', 'example', 'examples', 'title', 'param', 'default']);

/**
 * Whether some request can fail a query/header/cookie/path schema: a required field (path
 * parameters are always there), unknown fields refused, or a field that is more than a string (a
 * path segment is never empty, so `min(1)` on one is no constraint).
 */
function canFail(part: unknown, isPath: boolean): boolean {
  if (!(part instanceof z.ZodType)) return false;
  try {
    const schema = z.toJSONSchema(part, { io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, Record<string, unknown>>;
      required?: string[];
      additionalProperties?: unknown;
    };
    if (!isPath && (schema.required?.length || schema.additionalProperties === false)) return true;
    return Object.values(schema.properties ?? {}).some(
      (p) => p.type !== 'string' || Number(p.minLength ?? 0) > (isPath ? 1 : 0) || Object.keys(p).some((k) => !UNCONSTRAINING.has(k)),
    );
  } catch {
    return true;
  }
}
