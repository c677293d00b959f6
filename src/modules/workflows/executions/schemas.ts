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
    retry_of: z.string().nullable().meta({ description: 'Extension: the failed or cancelled run this one retries (POST /executions/{execution_id}/retry; trigger retry).' }),
    forked_from: z.string().nullable().meta({ description: 'Extension: the run this one was forked from (POST /executions/{execution_id}/fork; trigger fork).' }),
    forked_at_node: z.string().nullable().meta({ description: 'Extension: the node a fork ran again from (with everything downstream of it).' }),
    attempt: z.int().meta({ description: 'Extension: 1 for a run, n + 1 for a retry of attempt n.' }),
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
    reused_from: z.string().nullable().meta({
      description: 'Extension: in a retry or fork, a node whose recorded result was reused (it did not run again, attempts 0): the execution whose run produced it.',
    }),
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

/** A node's configuration changed for a retry or fork: its `config` keys replace the recorded ones. */
const NodeOverrides = z
  .record(z.string().min(1), z.object({ config: z.record(z.string(), z.unknown()) }).strict())
  .meta({ description: 'Per node id: {config} whose keys replace those of the node as it ran (only nodes that run again).' });

const ReplayWait = {
  inputs: z.record(z.string(), z.unknown()).optional().meta({ description: 'Merged over the original run inputs; seen by the nodes that run again.' }),
  node_overrides: NodeOverrides.optional(),
  async: z.boolean().default(false),
  wait_ms: z.int().min(0).max(120_000).default(30_000),
};

export const RetryBody = z.object(ReplayWait).strict().openapi('RetryExecutionRequest');

export const ForkBody = z
  .object({
    from_node_id: z.string().min(1).meta({
      description: 'The node to run again from: it and everything downstream of it run again; the rest is reused. `<iteration>/<body node>` (with item_index) forks inside an iteration.',
    }),
    item_index: z.int().min(0).optional().meta({
      description: 'With an iteration (or a node of its body) as from_node_id: only this item runs again (its whole body); the other items keep their recorded results.',
    }),
    ...ReplayWait,
  })
  .strict()
  .openapi('ForkExecutionRequest');
