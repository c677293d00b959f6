import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import { notFound, validationError } from '../../../lib/errors';
import { describeZodError } from '../../../lib/router';
import type * as routes from './routes';
import { LoginBody } from './schemas';
import * as service from './service';

export const register: RouteHandler<typeof routes.register, AppEnv> = async (c) => {
  const user = await service.registerUser(c.env, c.req.valid('json'));
  return c.json(user, 201);
};

export const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
  // The body may be a form or JSON; whichever was sent has been validated, the other is {}.
  const isJson = /json/i.test(c.req.header('content-type') ?? '');
  const parsed = LoginBody.safeParse(isJson ? c.req.valid('json') : c.req.valid('form'));
  if (!parsed.success) throw validationError(describeZodError('form', parsed.error));
  return c.json(await service.login(c.env, parsed.data.username, parsed.data.password), 200);
};

export const me: RouteHandler<typeof routes.me, AppEnv> = async (c) => {
  // The credential check has just read (or recently cached) the active user: no second query.
  const createdAt = c.get('userCreatedAt');
  const { id, email, nickname, role } = c.get('user');
  if (createdAt) return c.json({ id, email, nickname, role, status: 'active' as const, created_at: createdAt }, 200);
  const user = await service.getUser(c.env, id);
  if (!user) throw notFound('User');
  return c.json(user, 200);
};
