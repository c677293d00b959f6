import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

export const NodeTemplateSchema = z
  .object({
    id: z.string(),
    owner_id: z.string().nullable(),
    builtin: z.boolean(),
    name: z.string(),
    description: z.string(),
    node_type: z.string(),
    config: z.record(z.string(), z.unknown()),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi('NodeTemplate');

export const NodeTemplateListQuery = PaginationQuery.extend({
  node_type: z.string().max(64).optional(),
  search: z.string().max(200).optional(),
  /** `builtin`, `mine` or both (default). */
  source: z.enum(['all', 'builtin', 'mine']).default('all'),
});

export const CreateNodeTemplateBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(''),
    node_type: z.string().min(1).max(64),
    config: z.record(z.string(), z.unknown()).default({}),
  })
  .openapi('CreateNodeTemplateRequest');

export const UpdateNodeTemplateBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).optional(),
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('UpdateNodeTemplateRequest');

export const NodeTypeSchema = z
  .object({
    type: z.string(),
    description: z.string(),
    terminal: z.boolean(),
    /** Whether the node holds nested graphs (loop/iteration bodies). */
    has_body: z.boolean(),
    config_schema: z.record(z.string(), z.unknown()),
  })
  .openapi('NodeType');

export const NodeTypeListSchema = z.object({ items: z.array(NodeTypeSchema) }).openapi('NodeTypeList');

export const TemplateIdParam = z.object({
  template_id: z.string().min(1).openapi({ param: { name: 'template_id', in: 'path' } }),
});
