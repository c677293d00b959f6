import { z } from '@hono/zod-openapi';
import { NodeSchema } from '../../../engine/workflow/graph-schema';

export const RunNodeBody = z
  .object({
    node: NodeSchema,
    /** What `{{inputs.x}}` resolves to. */
    inputs: z.record(z.string(), z.unknown()).default({}),
    /** Outputs of upstream nodes by node id (`{"search": {"items": [...]}}`), and `vars`. */
    variables: z.record(z.string(), z.unknown()).default({}),
  })
  .openapi('RunNodeRequest');

export const RunNodeResultSchema = z
  .object({
    node_id: z.string(),
    node_type: z.string(),
    status: z.enum(['succeeded', 'failed', 'cancelled', 'waiting', 'pending', 'running', 'skipped']),
    inputs: z.unknown().nullable(),
    outputs: z.unknown().nullable(),
    branch: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    attempts: z.int(),
    duration_ms: z.int().nullable(),
    token_usage: z.object({ prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() }),
    calls: z.array(z.unknown()),
    logs: z.array(z.object({ level: z.string(), message: z.string(), data: z.unknown().optional() })),
    events: z.array(z.object({ type: z.string() }).passthrough()),
  })
  .openapi('RunNodeResult');
