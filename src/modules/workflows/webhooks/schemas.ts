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
    .meta({ description: 'true: wait up to 30 s for the result (200 with its status and outputs; 202 if still running)' }),
  details: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: "With wait=true: true answers the execution detail, every node's inputs and outputs included" }),
});

/** The JSON body: an object, the workflow's inputs (checked against its inputs_schema). */
export const WebhookBody = z.unknown().meta({ type: 'object', description: "The workflow's inputs", example: { name: 'Ada' } });

export const WebhookAccepted = z
  .object({ execution_id: z.string(), status: z.string() })
  .openapi('WebhookAccepted');

/** `?wait=true`: the run's outcome. */
export const WebhookResult = ExecutionDetailSchema.pick({ workflow_id: true, status: true, outputs: true, error: true, token_usage: true, started_at: true, finished_at: true, duration_ms: true })
  .extend({ execution_id: z.string() })
  .openapi('WebhookResult');

/** `?wait=true&details=true`: the execution detail (its nodes' inputs and outputs). */
export const WebhookResultDetail = ExecutionDetailSchema.extend({ execution_id: z.string() }).openapi('WebhookResultDetail');

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
