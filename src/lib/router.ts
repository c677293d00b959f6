import { OpenAPIHono } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import type { AppEnv } from './context';
import { validationError } from './errors';

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
  return new OpenAPIHono<AppEnv>({
    strict: false,
    defaultHook: (result) => {
      if (!result.success) throw validationError(describeZodError(result.target, result.error));
    },
  });
}

export type AppRouter = ReturnType<typeof createRouter>;
