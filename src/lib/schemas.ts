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
  400: { description: 'Malformed request', content: errorContent },
  401: { description: 'Missing or invalid token', content: errorContent },
  403: { description: 'Forbidden', content: errorContent },
  404: { description: 'Not found', content: errorContent },
  409: { description: 'Conflict', content: errorContent },
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
