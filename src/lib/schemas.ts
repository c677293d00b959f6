import { z } from '@hono/zod-openapi';

/** The error body of every non-2xx response. */
export const ErrorSchema = z
  .object({
    error: z.string().meta({ example: 'NOT_FOUND' }),
    message: z.string().meta({ example: 'Agent not found' }),
  })
  .openapi('Error');

const errorContent = { 'application/json': { schema: ErrorSchema } };

/** Standard error responses to spread into a route's `responses`. */
export const errorResponses = {
  400: { description: 'Malformed request (e.g. a body that is not valid JSON)', content: errorContent },
  401: { description: 'Missing or invalid token', content: errorContent },
  403: { description: 'Forbidden: a permission you lack, or a resource shared with you at a lower access level', content: errorContent },
  404: { description: 'Not found', content: errorContent },
  409: { description: 'Conflict', content: errorContent },
  413: { description: 'Request body too large', content: errorContent },
  415: { description: 'Unsupported media type', content: errorContent },
  422: { description: 'Validation error', content: errorContent },
  429: { description: 'Rate limited', content: errorContent },
} as const;

type ErrorStatus = keyof typeof errorResponses;

/** The standard error responses of the given statuses, to spread into a route's `responses`. */
export function errors<const S extends readonly ErrorStatus[]>(...statuses: S): Pick<typeof errorResponses, S[number]> {
  return Object.fromEntries(statuses.map((s) => [s, errorResponses[s]])) as Pick<typeof errorResponses, S[number]>;
}

export function errorResponse(description: string) {
  return { description, content: errorContent };
}

export const jsonContent = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** A path id parameter. Not format-checked: an unknown or malformed id is simply 404. */
export function idParam<K extends string>(name: K) {
  const shape = { [name]: z.string().min(1).openapi({ param: { name, in: 'path' }, example: '6f1c3c1e-8a4b-4c2e-9d7a-2b0f5e4a1c3d' }) };
  return z.object(shape as Record<K, z.ZodString>);
}

export const MessageSchema = z.object({ message: z.string() }).openapi('Message');

const pascal = (s: string) => s.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

/**
 * A `text/event-stream` media type (the SSE writer's wire format) whose events are `events`
 * (event type → payload schema). The schema is that of ONE event as a client sees it, `data`
 * parsed from JSON; `ids` false for streams that send bare `data:` lines (type `message`).
 */
export function eventStream(prefix: string, events: Record<string, z.ZodType>, { ids = true }: { ids?: boolean } = {}) {
  const variants = Object.entries(events).map(([event, data]) =>
    z
      .object({
        ...(ids ? { id: z.string().regex(/^\d+$/).meta({ description: 'The event’s position in the stream (for Last-Event-ID)' }) } : {}),
        event: z.literal(event),
        data,
      })
      .openapi(`${prefix}${pascal(event)}Event`),
  );
  const wire = ids
    ? 'Server-sent events: each event is an `id: <n>` line, an `event: <type>` line and `data: <JSON>` line(s), ended by a blank line; lines starting with `:` are keep-alive comments.'
    : 'Server-sent events: each event is only `data:` line(s) ended by a blank line (the SSE default type `message`); lines starting with `:` are keep-alive comments.';
  const schema = z
    .discriminatedUnion('event', variants as unknown as [z.ZodObject, ...z.ZodObject[]])
    .openapi(`${prefix}StreamEvent`, { description: `${wire} This schema is one event, its \`data\` parsed from JSON (data that is not JSON, such as \`[DONE]\`, stays a string).` });
  return { 'text/event-stream': { schema } };
}

/**
 * A named (`.openapi('Name')`) schema or null. `.nullable()` on a named schema loses the null in
 * the generated 3.1 document (a bare `$ref`, or an `allOf` that refuses null); a union keeps it.
 */
export const orNull = <T extends z.ZodTypeAny>(schema: T) => z.union([schema, z.null()]);
