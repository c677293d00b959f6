import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './lib/context';
import { ApiError, notFound } from './lib/errors';
import { recordRequests } from './modules/governance/audit-logs/recording';
import { d1Session, jsonBodyLimit, requestContext, requireConfiguration } from './lib/middleware';
import { onError } from './lib/on-error';
import { healthRouter, APP_VERSION } from './modules/health';
import { modules } from './modules';
import { createRouter } from './lib/router';

export const API_PREFIX = '/api/v1';

export function createApp() {
  const app = createRouter();
  app.use('*', requestContext);
  // After the response: audit rows for writes, request lines and errors for the system log.
  app.use('/api/*', recordRequests);
  app.use('*', requireConfiguration);
  app.use(`${API_PREFIX}/*`, async (c, next) =>
    /json/i.test(c.req.header('content-type') ?? '') ? jsonBodyLimit(c, next) : next(),
  );
  // Reads from the nearest D1 replica; the X-D1-Bookmark header keeps a client's reads after its writes.
  app.use(`${API_PREFIX}/*`, d1Session);

  app.route('/', healthRouter);
  for (const [prefix, router] of modules) app.route(`${API_PREFIX}${prefix}`, router);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The access_token from POST /api/v1/auth/login',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Tiangong Agent Platform API',
      version: APP_VERSION,
      description: 'Agents, chat, workflows, knowledge bases, goals and integrations on Cloudflare Workers.',
    },
  });

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      c.header('Allow', allowed.join(', '));
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${c.req.path}`);
    }
    throw notFound(`Route ${c.req.method} ${c.req.path}`);
  });
  app.onError(onError);
  return app;
}

// Route patterns by method, compiled once, to tell "wrong method" (405) from "no such path" (404).
let routePatterns: Array<{ method: string; pattern: RegExp }> | undefined;

function allowedMethods(app: OpenAPIHono<AppEnv>, path: string): string[] {
  routePatterns ??= app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({
      method: r.method,
      pattern: new RegExp('^' + r.path.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*') + '/?$'),
    }));
  return [...new Set(routePatterns.filter((r) => r.pattern.test(path)).map((r) => r.method))];
}

export const app = createApp();
