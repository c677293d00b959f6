import { z } from '@hono/zod-openapi';
import { GraphSchema, InputDefSchema } from '../../../engine/workflow/graph-schema';
import { PaginationQuery } from '../../../lib/pagination';
import { ExecutionDetailSchema } from '../executions/schemas';
import { WebhookViewSchema } from '../webhooks/schemas';

export const WorkflowStatus = z.enum(['draft', 'active', 'archived']);

export const WorkflowGraph = GraphSchema.openapi('WorkflowGraph', {
  example: {
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'greet', type: 'template', config: { template: 'Hello {{inputs.name}}' } },
      { id: 'end', type: 'end', config: { outputs: { greeting: '{{greet.text}}' } } },
    ],
    edges: [
      { source: 'start', target: 'greet' },
      { source: 'greet', target: 'end' },
    ],
  },
});
export const InputsSchema = z.array(InputDefSchema).max(100);

export const WorkflowSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.string(),
    name: z.string(),
    description: z.string(),
    graph: WorkflowGraph,
    inputs_schema: InputsSchema,
    version: z.int(),
    status: WorkflowStatus,
    template_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    /** Its webhook (POST /webhooks/workflows/...): only for those who may administer the workflow. */
    webhook: WebhookViewSchema.optional(),
  })
  .openapi('Workflow');

export const WorkflowSummarySchema = WorkflowSchema.omit({ graph: true, webhook: true })
  .extend({ node_count: z.int() })
  .openapi('WorkflowSummary');

export const WorkflowListQuery = PaginationQuery.extend({
  search: z.string().max(200).optional(),
  status: WorkflowStatus.optional(),
});

export const CreateWorkflowBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5000).default(''),
    graph: WorkflowGraph.default({ nodes: [], edges: [] }),
    inputs_schema: InputsSchema.default([]),
    status: WorkflowStatus.default('draft'),
  })
  .openapi('CreateWorkflowRequest');

export const UpdateWorkflowBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(5000).optional(),
    graph: WorkflowGraph.optional(),
    inputs_schema: InputsSchema.optional(),
    status: WorkflowStatus.optional(),
    /** Why this version was saved (shown in the history). */
    note: z.string().max(500).optional(),
    /** Turn the workflow's webhook on or off (needs admin access; the first enabling answers the new secret once). */
    webhook_enabled: z.boolean().optional(),
    /** Replace the webhook secret (answered once in `webhook.secret`; the old one stops working). */
    rotate_webhook_secret: z.boolean().optional(),
  })
  .openapi('UpdateWorkflowRequest');

export const ValidationIssueSchema = z
  .object({
    node_id: z.string().optional(),
    edge: z.object({ source: z.string(), target: z.string(), source_handle: z.string().optional() }).optional(),
    code: z.string(),
    message: z.string(),
  })
  .openapi('ValidationIssue');

export const ValidationResultSchema = z
  .object({ valid: z.boolean(), errors: z.array(ValidationIssueSchema) })
  .openapi('WorkflowValidation');

export const ValidateBody = z
  .object({ graph: WorkflowGraph, inputs_schema: InputsSchema.default([]) })
  .openapi('ValidateWorkflowRequest');

export const ExecuteBody = z
  .object({
    inputs: z.record(z.string(), z.unknown()).default({}),
    /** Answer 202 at once instead of waiting for the result. */
    async: z.boolean().default(false),
    /** How long to wait for the result before answering 202 (default 30 s). */
    wait_ms: z.int().min(0).max(120_000).default(30_000),
  })
  .openapi('ExecuteWorkflowRequest');

export const ExecuteResultSchema = ExecutionDetailSchema.extend({ execution_id: z.uuid() }).openapi('ExecuteWorkflowResult');

export const VersionSchema = z
  .object({
    workflow_id: z.uuid(),
    version: z.int(),
    name: z.string(),
    description: z.string(),
    graph: WorkflowGraph,
    inputs_schema: InputsSchema,
    note: z.string(),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi('WorkflowVersion');

export const VersionSummarySchema = VersionSchema.omit({ graph: true, inputs_schema: true }).openapi('WorkflowVersionSummary');

export const VersionParams = z.object({
  workflow_id: z.string().min(1).openapi({ param: { name: 'workflow_id', in: 'path' } }),
  v: z.coerce.number().int().min(1).openapi({ param: { name: 'v', in: 'path' }, example: 1 }),
});

export const EXPORT_FORMAT = 'tiangong.workflow' as const;
export const EXPORT_FORMAT_VERSION = 1;

export const ExportDocument = z
  .object({
    format: z.literal(EXPORT_FORMAT),
    format_version: z.int().min(1).max(EXPORT_FORMAT_VERSION),
    exported_at: z.string().optional(),
    workflow: z.object({
      name: z.string().trim().min(1).max(200),
      description: z.string().max(5000).default(''),
      graph: WorkflowGraph,
      inputs_schema: InputsSchema.default([]),
      status: WorkflowStatus.default('draft'),
    }),
  })
  .openapi('WorkflowExport');

export const ImportBody = ExportDocument.extend({
  /** Overrides the imported name. */
  name: z.string().trim().min(1).max(200).optional(),
}).openapi('ImportWorkflowRequest');

export const TemplateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    category: z.string(),
    graph: WorkflowGraph,
    inputs_schema: InputsSchema,
    sample_inputs: z.record(z.string(), z.unknown()),
  })
  .openapi('WorkflowTemplate');

export const TemplateSummarySchema = TemplateSchema.omit({ graph: true }).extend({ node_count: z.int() }).openapi('WorkflowTemplateSummary');

export const TemplateListQuery = PaginationQuery.extend({ category: z.string().max(64).optional(), search: z.string().max(200).optional() });

export const FromTemplateBody = z
  .object({ name: z.string().trim().min(1).max(200).optional(), description: z.string().max(5000).optional() })
  .openapi('CreateFromTemplateRequest');
