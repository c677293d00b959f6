import { z } from '@hono/zod-openapi';
import { cronProblem, isValidTimezone } from '../../../engine/schedule/cron';
import { PaginationQuery } from '../../../lib/pagination';

export const ScheduleSchema = z
  .object({
    id: z.string(),
    owner_id: z.string(),
    agent_id: z.string(),
    cron: z.string().meta({ example: '0 9 * * 1-5' }),
    timezone: z.string().meta({ example: 'Asia/Shanghai' }),
    input: z.string(),
    enabled: z.boolean(),
    next_run_at: z.string().nullable().meta({ description: 'The next occurrence (UTC, ISO 8601); null while disabled' }),
    last_run_at: z.string().nullable(),
    last_execution_id: z.string().nullable(),
    last_status: z.string().nullable().meta({ description: "The last run's execution status (pending, running, succeeded, failed, ...)" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('AgentSchedule');

const cron = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .superRefine((v, ctx) => {
    const problem = cronProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: `Invalid cron expression: ${problem}` });
  })
  .meta({ description: '5 fields: minute hour day-of-month month day-of-week (ranges, steps, lists)', example: '0 9 * * 1-5' });

const timezone = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine(isValidTimezone, { message: 'Unknown timezone (use an IANA name such as Asia/Shanghai or UTC)' })
  .meta({ example: 'Asia/Shanghai' });

const fields = {
  agent_id: z.string().min(1).max(64),
  cron,
  timezone,
  input: z.string().min(1).max(20_000).meta({ description: 'The message the agent receives on each run' }),
  enabled: z.boolean(),
};

export const CreateScheduleBody = z
  .object({ ...fields, timezone: fields.timezone.default('UTC'), enabled: fields.enabled.default(true) })
  .openapi('CreateAgentScheduleRequest');

export const UpdateScheduleBody = z
  .object({
    agent_id: fields.agent_id.optional(),
    cron: fields.cron.optional(),
    timezone: fields.timezone.optional(),
    input: fields.input.optional(),
    enabled: fields.enabled.optional(),
  })
  .openapi('UpdateAgentScheduleRequest');

const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const ScheduleListQuery = PaginationQuery.extend({
  agent_id: z.string().max(64).optional(),
  enabled: boolQuery.optional().meta({ type: 'string', enum: ['true', 'false'] }),
});

export const TriggerResultSchema = z
  .object({
    schedule_id: z.string(),
    run_id: z.string(),
    execution_id: z.string(),
    status: z.string(),
  })
  .openapi('AgentScheduleTriggerResult');

export type Schedule = z.infer<typeof ScheduleSchema>;
