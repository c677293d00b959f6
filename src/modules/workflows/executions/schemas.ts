import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';
import { INLINE_MODES } from '../../../runs/execution-view';

export const ExecutionStatus = z.enum(['pending', 'running', 'paused', 'waiting_approval', 'succeeded', 'failed', 'cancelled']);

export const TokenUsageSchema = z.object({
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  total_tokens: z.int(),
});

export const ExecutionErrorSchema = z.object({ code: z.string(), message: z.string(), node_id: z.string().optional() });

export const ExecutionSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.string(),
    workflow_id: z.string().nullable(),
    workflow_version: z.int().nullable(),
    agent_id: z.string().nullable(),
    trigger: z.string(),
    mode: z.enum(INLINE_MODES).nullable().meta({
      description: 'Runs of POST /agents/{agent_id}/execute (trigger execute): the pattern the agent ran in; they run inline, so they cannot be paused, resumed or cancelled. Null for workflow runs.',
    }),
    status: ExecutionStatus,
    inputs: z.record(z.string(), z.unknown()),
    outputs: z.record(z.string(), z.unknown()).nullable(),
    error: ExecutionErrorSchema.nullable(),
    token_usage: TokenUsageSchema,
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Execution');

export const ExecutionNodeSchema = z
  .object({
    node_id: z.string(),
    node_type: z.string(),
    label: z.string().nullable(),
    status: z.enum(['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled']),
    inputs: z.unknown().nullable(),
    outputs: z.unknown().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    branch: z.string().nullable(),
    attempts: z.int(),
    total_tokens: z.int(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.int().nullable(),
  })
  .openapi('ExecutionNode');

export const ExecutionDetailSchema = ExecutionSchema.extend({ nodes: z.array(ExecutionNodeSchema) }).openapi('ExecutionDetail');

export const ExecutionListQuery = PaginationQuery.extend({
  workflow_id: z.string().optional(),
  agent_id: z.string().optional(),
  status: ExecutionStatus.optional(),
  /** ISO timestamps bounding created_at. */
  since: z.string().datetime({ offset: true }).optional(),
  until: z.string().datetime({ offset: true }).optional(),
});

export const CreateExecutionBody = z
  .object({
    workflow_id: z.string().min(1).optional(),
    agent_id: z.string().min(1).optional(),
    inputs: z.record(z.string(), z.unknown()).default({}),
    async: z.boolean().default(false),
    wait_ms: z.int().min(0).max(120_000).default(30_000),
  })
  .refine((b) => !!b.workflow_id !== !!b.agent_id, { message: 'Give exactly one of workflow_id and agent_id', path: ['workflow_id'] })
  .openapi('CreateExecutionRequest');

export const ExecutionIdParam = z.object({
  execution_id: z.string().min(1).openapi({ param: { name: 'execution_id', in: 'path' }, example: '6f1c3c1e-8a4b-4c2e-9d7a-2b0f5e4a1c3d' }),
});

export const ResumeBody = z.object({ wait_ms: z.int().min(0).max(120_000).default(0) }).openapi('ResumeExecutionRequest');
