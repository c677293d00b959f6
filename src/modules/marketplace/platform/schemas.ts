import { z } from '@hono/zod-openapi';
import { AgentSchema } from '../../agents/agents/schemas';

export const ScenarioSchema = z
  .object({
    id: z.string().meta({ example: 'customer-service-bot' }),
    name: z.string(),
    category: z.string(),
    description: z.string(),
    agent: z.object({ name: z.string(), description: z.string(), system_prompt: z.string(), include_tools: z.array(z.string()), iteration_limit: z.int() }),
    knowledge_base: z.object({ name: z.string(), description: z.string() }),
    workflow: z.object({
      name: z.string(),
      description: z.string(),
      inputs_schema: z.array(z.record(z.string(), z.unknown())),
      graph: z.object({ nodes: z.array(z.unknown()), edges: z.array(z.unknown()) }),
    }),
  })
  .openapi('PlatformScenario');

export const ScenarioCategorySchema = z.object({ id: z.string(), name: z.string(), count: z.int() }).openapi('PlatformScenarioCategory');

export const ScenarioListQuery = z.object({ category: z.string().max(50).optional(), search: z.string().trim().max(200).optional() });

export const QuickCreateBody = z
  .object({
    name: z.string().trim().min(1).max(80).optional().meta({ description: 'Prefix for the created resources’ names (default: the scenario’s names)' }),
    system_prompt: z.string().max(100_000).optional().meta({ description: 'Replaces the scenario agent’s system prompt' }),
  })
  .openapi('QuickCreateRequest');

export const QuickCreateResultSchema = z
  .object({
    scenario_id: z.string(),
    agent: AgentSchema,
    knowledge_base: z.object({ id: z.uuid(), name: z.string(), description: z.string() }),
    workflow: z.object({ id: z.uuid(), name: z.string(), description: z.string(), version: z.int() }),
  })
  .openapi('QuickCreateResult');
