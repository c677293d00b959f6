import { z } from '@hono/zod-openapi';
import { UsageSchema } from '../goals/schemas';

export const SwarmRunBody = z
  .object({
    task: z.string().trim().min(1).max(20_000).meta({ example: '调研三家竞品并写出对比' }),
    agent_ids: z
      .array(z.uuid())
      .min(1)
      .max(10)
      .refine((ids) => new Set(ids).size === ids.length, 'agent ids must not repeat')
      .meta({ description: 'The first agent coordinates and reviews; the others are the workers (alone, it does everything)' }),
    max_rounds: z.int().min(1).max(5).default(1).meta({ description: 'Work-and-review rounds the reviewer may ask for' }),
  })
  .openapi('SwarmRunRequest');

const SwarmStepSchema = z
  .object({
    agent_id: z.string(),
    agent_name: z.string(),
    role: z.enum(['coordinator', 'worker', 'reviewer']),
    round: z.int(),
    input: z.string(),
    output: z.string(),
    token_usage: UsageSchema,
    duration_ms: z.int(),
  })
  .openapi('SwarmStep');

export const SwarmResultSchema = z
  .object({
    task: z.string(),
    coordinator_id: z.string(),
    rounds: z.int(),
    assignments: z.array(z.object({ agent_id: z.string(), subtask: z.string() })),
    steps: z.array(SwarmStepSchema).meta({ description: 'Every agent step in the order they finished' }),
    transcripts: z.array(z.object({ agent_id: z.string(), agent_name: z.string(), steps: z.array(SwarmStepSchema) })).meta({ description: 'The steps per agent' }),
    result: z.string(),
    token_usage: UsageSchema,
  })
  .openapi('SwarmResult');

export type SwarmRun = z.infer<typeof SwarmRunBody>;
