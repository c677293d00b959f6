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
  const user = await service.getUser(c.env, c.get('user').id);
  if (!user) throw notFound('User');
  return c.json(user, 200);
};
