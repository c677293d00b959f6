import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

export const TASK_STATUSES = ['pending', 'awaiting_approval', 'claimed', 'running', 'completed', 'failed', 'rejected'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TaskSchema = z
  .object({
    id: z.uuid(),
    goal_id: z.uuid(),
    owner_id: z.string(),
    parent_id: z.string().nullable(),
    position: z.int(),
    title: z.string(),
    description: z.string(),
    status: z.enum(TASK_STATUSES),
    depends_on: z.array(z.string()).meta({ description: 'Ids of the tasks this one waits for' }),
    assigned_agent_id: z.string().nullable(),
    requires_approval: z.boolean(),
    approval_status: z.enum(['approved', 'rejected']).nullable(),
    approval_comment: z.string().nullable(),
    claimed_by: z.string().nullable().meta({ description: 'The user holding the claim, or the id of the run executing it' }),
    claimed_by_agent_id: z.string().nullable(),
    lease_expires_at: z.string().nullable(),
    attempts: z.int(),
    max_retries: z.int(),
    result: z.string().nullable(),
    error: z.string().nullable(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Task');

const Id = z.uuid();
const Ids = z
  .array(Id)
  .max(100)
  .refine((ids) => new Set(ids).size === ids.length, 'ids must not repeat');

const fields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().max(20_000),
  parent_id: Id.nullable(),
  depends_on: Ids,
  assigned_agent_id: Id.nullable(),
  requires_approval: z.boolean(),
  max_retries: z.int().min(0).max(10),
};

export const CreateTaskBody = z
  .object({
    goal_id: Id,
    title: fields.title.meta({ example: '收集资料' }),
    description: fields.description.default(''),
    parent_id: fields.parent_id.optional(),
    depends_on: fields.depends_on.default([]),
    assigned_agent_id: fields.assigned_agent_id.optional(),
    requires_approval: fields.requires_approval.default(false),
    max_retries: fields.max_retries.default(2),
  })
  .openapi('CreateTaskRequest');

export const UpdateTaskBody = z
  .object({
    title: fields.title.optional(),
    description: fields.description.optional(),
    parent_id: fields.parent_id.optional(),
    depends_on: fields.depends_on.optional(),
    assigned_agent_id: fields.assigned_agent_id.optional(),
    requires_approval: fields.requires_approval.optional(),
    max_retries: fields.max_retries.optional(),
  })
  .openapi('UpdateTaskRequest');

export const TaskListQuery = PaginationQuery.extend({
  goal_id: z.string().optional(),
  status: z.enum(TASK_STATUSES).optional(),
  assigned_agent_id: z.string().optional(),
  search: z.string().trim().max(200).optional().meta({ description: 'Matches title and description' }),
});

export const ClaimBody = z
  .object({
    agent_id: Id.optional().meta({ description: 'The agent working on it (one of yours)' }),
    lease_seconds: z.int().min(10).max(86_400).default(300),
  })
  .openapi('ClaimTaskRequest');

export const CompleteBody = z.object({ result: z.string().max(100_000) }).openapi('CompleteTaskRequest');
export const FailBody = z.object({ error: z.string().trim().min(1).max(10_000) }).openapi('FailTaskRequest');
export const ApproveBody = z.object({ comment: z.string().max(5_000).optional() }).openapi('ApproveTaskRequest');
export const RejectBody = z.object({ comment: z.string().trim().min(1).max(5_000).meta({ description: 'Why it is rejected' }) }).openapi('RejectTaskRequest');

export const BlockersSchema = z
  .object({
    task_id: z.string(),
    blocked: z.boolean(),
    blockers: z.array(TaskSchema).meta({ description: 'Unfinished tasks it depends on' }),
  })
  .openapi('TaskBlockers');

export type Task = z.infer<typeof TaskSchema>;
export type CreateTask = z.infer<typeof CreateTaskBody>;
export type UpdateTask = z.infer<typeof UpdateTaskBody>;
