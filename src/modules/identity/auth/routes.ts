import { createRoute } from '@hono/zod-openapi';
import { authenticated } from './guard';
import { errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { LoginBody, RegisterBody, TokenSchema, UserSchema } from './schemas';

const tags = ['auth'];

export const register = createRoute({
  method: 'post',
  path: '/register',
  tags,
  summary: 'Register a user (the first one becomes admin)',
  request: { body: jsonBody(RegisterBody) },
  responses: {
    201: jsonContent(UserSchema, 'The new user'),
    ...errors(409, 422),
  },
});

export const login = createRoute({
  method: 'post',
  path: '/login',
  tags,
  summary: 'Log in with an OAuth2 password form (username = email) or the same fields as JSON',
  request: {
    body: {
      required: false,
      content: {
        'application/x-www-form-urlencoded': { schema: LoginBody },
        'application/json': { schema: LoginBody },
      },
    },
  },
  responses: {
    200: jsonContent(TokenSchema, 'An access token'),
    ...errors(401, 422, 429),
  },
});

export const me = createRoute({
  method: 'get',
  path: '/me',
  tags,
  summary: 'The current user',
  ...authenticated,
  responses: {
    200: jsonContent(UserSchema, 'The current user'),
    ...errors(401),
  },
});
