import { z } from '@hono/zod-openapi';

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    nickname: z.string(),
    role: z.enum(['admin', 'user']),
    status: z.enum(['active', 'disabled']),
    created_at: z.string(),
  })
  .openapi('User');

export const RegisterBody = z
  .object({
    email: z.string().trim().email().max(254),
    password: z.string().min(8, 'Password must be at least 8 characters').max(256),
    nickname: z.string().trim().min(1).max(64),
  })
  .openapi('RegisterRequest');

export const LoginBody = z
  .object({
    username: z.string().trim().min(1).max(254).meta({ description: 'The registered email' }),
    password: z.string().min(1).max(256),
  })
  .openapi('LoginRequest');

export const TokenSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal('bearer'),
  })
  .openapi('Token');
