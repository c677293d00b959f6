import { z } from '@hono/zod-openapi';
import { ErrorSchema, eventStream } from '../../../lib/schemas';
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

export const SwarmStepSchema = z
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

const role = SwarmStepSchema.shape.role;

/** The events of `POST /swarm/run/stream`: agent_started, token, agent_finished, then done or error. */
export const SwarmEvents = eventStream('Swarm', {
  agent_started: z.object({ agent_id: z.string(), agent_name: z.string(), role, round: z.int() }).meta({ description: 'An agent starts a step' }),
  token: z.object({ agent_id: z.string(), role, round: z.int(), text: z.string() }).meta({ description: 'A piece of an agent’s output' }),
  agent_finished: SwarmStepSchema,
  // The whole result, as POST /swarm/run answers it; the last event.
  done: SwarmResultSchema,
  // The swarm failed; the last event.
  error: ErrorSchema,
});
