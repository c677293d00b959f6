import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';
import { TaskSchema } from '../tasks/schemas';

export const GOAL_STATUSES = ['draft', 'active', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type GoalStatus = (typeof GOAL_STATUSES)[number];
export const GOAL_PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

export const GoalSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.string(),
    title: z.string(),
    description: z.string(),
    priority: z.enum(GOAL_PRIORITIES),
    deadline: z.string().nullable(),
    agent_ids: z.array(z.string()),
    status: z.enum(GOAL_STATUSES),
    auto_execute: z.boolean().meta({ description: 'Set by execute-async: finished tasks enqueue the tasks they unblock' }),
    progress: z.number().meta({ description: 'Percentage of completed tasks', example: 50 }),
    task_count: z.int(),
    completed_task_count: z.int(),
    result: z.string().nullable(),
    error: z.string().nullable(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Goal');

const AgentIds = z
  .array(z.uuid())
  .max(20)
  .refine((ids) => new Set(ids).size === ids.length, 'agent ids must not repeat')
  .meta({ description: 'Your agents that may work on the goal' });

const fields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().max(50_000),
  priority: z.enum(GOAL_PRIORITIES),
  deadline: z.string().datetime({ offset: true }).nullable().meta({ example: '2026-12-31T00:00:00Z' }),
  agent_ids: AgentIds,
};

export const CreateGoalBody = z
  .object({
    title: fields.title.meta({ example: '写一份市场调研报告' }),
    description: fields.description.default('').meta({ description: 'With the mock model, each non-empty line becomes one task when decomposed' }),
    priority: fields.priority.default('medium'),
    deadline: fields.deadline.optional(),
    agent_ids: fields.agent_ids.default([]),
  })
  .openapi('CreateGoalRequest');

export const UpdateGoalBody = z
  .object({
    title: fields.title.optional(),
    description: fields.description.optional(),
    priority: fields.priority.optional(),
    deadline: fields.deadline.optional(),
    agent_ids: fields.agent_ids.optional(),
    status: z.literal('cancelled').optional().meta({ description: 'Cancel the goal (other status changes have their own endpoints)' }),
  })
  .openapi('UpdateGoalRequest');

export const GoalListQuery = PaginationQuery.extend({
  search: z.string().trim().max(200).optional().meta({ description: 'Matches title and description' }),
  status: z.enum(GOAL_STATUSES).optional(),
  priority: z.enum(GOAL_PRIORITIES).optional(),
});

export const ReplanBody = z
  .object({ instructions: z.string().max(10_000).optional().meta({ description: 'What to change (passed to the model)' }) })
  .openapi('ReplanRequest');

export const InteractBody = z.object({ message: z.string().trim().min(1).max(20_000) }).openapi('GoalInteractRequest');

export const UsageSchema = z.object({ prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() }).openapi('TokenUsage');

export const InteractResponse = z
  .object({ goal_id: z.string(), reply: z.string(), token_usage: UsageSchema })
  .openapi('GoalInteractResponse');

export const PlanResponse = z
  .object({
    goal: GoalSchema,
    tasks: z.array(TaskSchema).meta({ description: 'All tasks of the goal in plan order' }),
    replaced: z.int().meta({ description: 'How many tasks the new plan replaced' }),
  })
  .openapi('GoalPlan');

export const ExecuteAsyncResponse = z
  .object({ goal: GoalSchema, enqueued: z.int().meta({ description: 'Ready tasks put on the queue now' }) })
  .openapi('GoalExecution');

export type TaskNode = z.infer<typeof TaskSchema> & { children: TaskNode[] };

export const TaskNodeSchema: z.ZodType<TaskNode> = TaskSchema.extend({
  get children() {
    return z.array(TaskNodeSchema);
  },
}).openapi('TaskNode') as unknown as z.ZodType<TaskNode>;

export const TaskTreeSchema = z
  .object({
    goal_id: z.string(),
    status: z.enum(GOAL_STATUSES),
    progress: z.number(),
    counts: z.record(z.string(), z.int()).meta({ description: 'Tasks per status' }),
    tasks: z.array(TaskNodeSchema).meta({ description: 'Root tasks, each with its children' }),
  })
  .openapi('TaskTree');

export type Goal = z.infer<typeof GoalSchema>;
export type CreateGoal = z.infer<typeof CreateGoalBody>;
export type UpdateGoal = z.infer<typeof UpdateGoalBody>;
