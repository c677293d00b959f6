import { z } from '@hono/zod-openapi';

export const ApiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    key_hint: z.string().meta({ example: 'tg_k3j9x2mq…', description: 'The start of the key, enough to recognise it' }),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    status: z.enum(['active', 'expired', 'revoked']),
  })
  .openapi('ApiKey');

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().meta({ description: 'The secret itself. Shown only in this answer; store it now.' }),
}).openapi('CreatedApiKey');

export const CreateApiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    expires_in_days: z.int().min(1).max(3650).optional().meta({ description: 'Omit for a key that never expires' }),
  })
  .openapi('CreateApiKeyRequest');
