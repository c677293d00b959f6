import { z } from '@hono/zod-openapi';

export const MAX_BATCH_ITEMS = 100;

export const EXECUTE_TYPES = ['agent', 'workflow'] as const;
export const RESOURCE_TYPES = ['agent', 'workflow', 'knowledge_base', 'tool'] as const;
export type BatchResourceType = (typeof RESOURCE_TYPES)[number];

const id = z.string().trim().min(1).max(64);

export const ExecuteItem = z
  .object({
    type: z.enum(EXECUTE_TYPES),
    id,
    /** Agents: the message (inputs.message). */
    input: z.string().max(20_000).optional(),
    /** Workflows: the inputs; agents: the inputs object (with `message`) instead of `input`. */
    inputs: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((item, ctx) => {
    if (item.type === 'agent' && item.input === undefined && typeof item.inputs?.message !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['input'], message: 'An agent item needs `input` (the message) or `inputs.message`' });
    }
    if (item.type === 'workflow' && item.input !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['input'], message: 'A workflow item takes `inputs` (an object), not `input`' });
    }
  });

export const ExecuteBody = z
  .object({ items: z.array(ExecuteItem).min(1).max(MAX_BATCH_ITEMS) })
  .openapi('BatchExecuteRequest');

const ITEM_STATUS_DESCRIPTION =
  "The execution's status (pending, running, ...) when it started; otherwise not_found, forbidden (read-only access) or invalid (inputs or graph rejected)";

export const ExecuteResultItem = z.object({
  index: z.int(),
  type: z.enum(EXECUTE_TYPES),
  id: z.string(),
  execution_id: z.string().nullable(),
  status: z.string().meta({ description: ITEM_STATUS_DESCRIPTION }),
  error: z.string().optional(),
});

export const ExecuteResult = z
  .object({
    batch_id: z.string(),
    total: z.int(),
    started: z.int(),
    failed: z.int(),
    items: z.array(ExecuteResultItem),
  })
  .openapi('BatchExecuteResult');

const ResourceRef = z.object({ type: z.enum(RESOURCE_TYPES), id });

export const ExportBody = z
  .object({ resources: z.array(ResourceRef).min(1).max(MAX_BATCH_ITEMS) })
  .openapi('BatchExportRequest');

export const BUNDLE_FORMAT = 'tiangong.bundle' as const;

export const ExportBundle = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    format_version: z.int(),
    exported_at: z.string(),
    resources: z.array(
      z.object({
        type: z.enum(RESOURCE_TYPES),
        id: z.string(),
        document: z.record(z.string(), z.unknown()).meta({ description: "The module's own export document (secrets never included)" }),
      }),
    ),
    errors: z.array(z.object({ index: z.int(), type: z.enum(RESOURCE_TYPES), id: z.string(), error: z.enum(['not_found']) })),
  })
  .openapi('BatchExportBundle');

export const DeleteBody = z
  .object({
    resources: z.array(ResourceRef).min(1).max(MAX_BATCH_ITEMS),
    /** true: delete all of them or none (409 naming the ids that cannot be deleted). */
    atomic: z.boolean().default(false),
  })
  .openapi('BatchDeleteRequest');

export const DeleteResult = z
  .object({
    atomic: z.boolean(),
    deleted: z.int(),
    items: z.array(
      z.object({
        index: z.int(),
        type: z.enum(RESOURCE_TYPES),
        id: z.string(),
        result: z.enum(['deleted', 'not_found', 'forbidden', 'invalid', 'error']),
        error: z.string().optional(),
      }),
    ),
  })
  .openapi('BatchDeleteResult');
