import { z } from '@hono/zod-openapi';
import { ExecutionDetailSchema } from '../executions/schemas';

export const WebhookHeaders = z.object({
  'x-tiangong-timestamp': z.string().optional().meta({ description: 'Unix seconds; required with X-Tiangong-Signature' }),
  'x-tiangong-signature': z
    .string()
    .optional()
    .meta({ description: 'sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>', example: 'sha256=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd' }),
  'x-webhook-secret': z.string().optional().meta({ description: 'The secret itself, instead of a signature (no replay protection)' }),
});

export const WebhookQuery = z.object({
  wait: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: 'true: wait up to 30 s for the result (200 with the execution detail; 202 if still running)' }),
});

/** The JSON body: an object, the workflow's inputs (checked against its inputs_schema). */
export const WebhookBody = z.unknown().meta({ type: 'object', description: "The workflow's inputs", example: { name: 'Ada' } });

export const WebhookAccepted = z
  .object({ execution_id: z.string(), status: z.string() })
  .openapi('WebhookAccepted');

export const WebhookResult = ExecutionDetailSchema.extend({ execution_id: z.string() }).openapi('WebhookResult');

export const WebhookViewSchema = z
  .object({
    enabled: z.boolean(),
    url_by_id: z.string(),
    url_by_name: z.string(),
    secret_hint: z.string().nullable(),
    created_at: z.string().nullable(),
    rotated_at: z.string().nullable(),
    secret: z.string().optional().meta({ description: 'Only in the answer that created or rotated the secret: store it now' }),
  })
  .openapi('WorkflowWebhook');
