import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './lib/context';
import { ApiError, notFound } from './lib/errors';
import { recordRequests } from './modules/governance/audit-logs/recording';
import { d1Session, jsonBodyLimit, requestContext, requireConfiguration } from './lib/middleware';
import { onError } from './lib/on-error';
import { healthRouter, APP_VERSION } from './modules/health';
import { modules } from './modules';
import { routeTable } from './modules/route-table';
import { createRouter, type AppRouter } from './lib/router';

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
  const routers = modules.map(([prefix, load]) => mountLazily(app, prefix, load));

  // The document of every route: built on its first request, from every module's router.
  let documented: Promise<AppRouter> | undefined;
  app.get('/openapi.json', async (c) => {
    documented ??= documentedApp(routers);
    return c.json((await documented).getOpenAPI31Document(OPENAPI_INFO));
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

const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'Tiangong Agent Platform API',
    version: APP_VERSION,
    description: 'Agents, chat, workflows, knowledge bases, goals and integrations on Cloudflare Workers.',
  },
};

type LazyRouter = [prefix: string, router: () => Promise<AppRouter>];

/**
 * Mounts a module's routes (route-table.ts) under `/api/v1` + prefix, each handler standing for the
 * handler at the same position in the module's router, which is built on the first request under the
 * prefix. The app's routes are those `app.route(prefix, router)` would add (the 405 check reads them),
 * and a handler runs on the request's own context, as a mounted one does (the routers have no onError
 * of their own: the app's is the one).
 */
function mountLazily(app: AppRouter, prefix: string, load: () => Promise<AppRouter>): LazyRouter {
  let built: Promise<AppRouter> | undefined;
  const router = () => (built ??= load());
  const mounted = app.basePath(`${API_PREFIX}${prefix}`);
  let index = 0;
  for (const [method, path, handlers] of routeTable[prefix] ?? []) {
    for (let n = 0; n < handlers; n++) {
      const i = index++;
      mounted.on(method, path, async (c, next) => (await router()).routes[i]!.handler(c, next));
    }
  }
  return [prefix, router];
}

/** An app with every route mounted as the modules declare them, in the order they are served: the OpenAPI document's source. */
async function documentedApp(routers: LazyRouter[]): Promise<AppRouter> {
  const documented = createRouter();
  documented.route('/', healthRouter);
  for (const [prefix, router] of routers) documented.route(`${API_PREFIX}${prefix}`, await router());
  documented.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The access_token from POST /api/v1/auth/login',
  });
  return documented;
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
