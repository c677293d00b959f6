import { z } from '@hono/zod-openapi';
import { MODEL_PROVIDERS } from '../../../engine/llm/gateway';

export const ModelConfigSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.string(),
    name: z.string(),
    provider: z.enum(MODEL_PROVIDERS),
    model_name: z.string(),
    base_url: z.string().nullable(),
    api_key: z.string().nullable().meta({ description: 'Masked (`sk-…1234`); the key itself is never returned', example: 'sk-…1234' }),
    temperature: z.number().nullable(),
    max_tokens: z.int().nullable(),
    is_default: z.boolean(),
    is_system: z.boolean().meta({ description: 'System-wide: visible to everyone, editable by admins' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('ModelConfig');

const fields = {
  name: z.string().trim().min(1).max(100),
  provider: z.enum(MODEL_PROVIDERS),
  model_name: z.string().trim().min(1).max(200).meta({ example: 'deepseek-chat' }),
  base_url: z
    .string()
    .trim()
    .url()
    .max(2048)
    .nullable()
    .meta({ description: 'openai provider: the API base, e.g. https://api.deepseek.com/v1 (default https://api.openai.com/v1)' }),
  api_key: z.string().trim().min(1).max(1000).nullable().meta({ description: 'Stored encrypted; null removes it' }),
  temperature: z.number().min(0).max(2).nullable(),
  max_tokens: z.int().min(1).max(1_000_000).nullable(),
  is_default: z.boolean().meta({ description: "The caller's default model (one per user; system configs: one system default)" }),
};

export const CreateModelConfigBody = z
  .object({
    ...fields,
    base_url: fields.base_url.optional(),
    api_key: fields.api_key.optional(),
    temperature: fields.temperature.optional(),
    max_tokens: fields.max_tokens.optional(),
    is_default: fields.is_default.default(false),
    is_system: z.boolean().default(false).meta({ description: 'Admins only: a config visible to all users' }),
  })
  .openapi('CreateModelConfigRequest');

export const UpdateModelConfigBody = z
  .object({
    name: fields.name.optional(),
    provider: fields.provider.optional(),
    model_name: fields.model_name.optional(),
    base_url: fields.base_url.optional(),
    api_key: fields.api_key.optional(),
    temperature: fields.temperature.optional(),
    max_tokens: fields.max_tokens.optional(),
    is_default: fields.is_default.optional(),
  })
  .openapi('UpdateModelConfigRequest');

export const ModelConfigTestResult = z
  .object({
    ok: z.boolean(),
    latency_ms: z.int(),
    error: z.string().nullable(),
  })
  .openapi('ModelConfigTestResult');

export type CreateModelConfig = z.infer<typeof CreateModelConfigBody>;
export type UpdateModelConfig = z.infer<typeof UpdateModelConfigBody>;
export type ModelConfig = z.infer<typeof ModelConfigSchema>;
