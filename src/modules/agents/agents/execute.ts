import { createRoute, z, type RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import { authenticated } from '../../identity/auth/guard';
import { errorResponse, errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import { StepSchema, UsageSchema } from '../agent-chat/schemas';
import { EXECUTE_MODES, executeAgentInline } from './execute-service';

// POST /agents/{agent_id}/execute lives in its own file: it is the chat/orchestration side of the
// agents prefix (one agent turn or an orchestration mode), kept apart from the agents CRUD.

export const ExecuteBody = z
  .object({
    input: z.string().min(1).max(100_000).openapi({ example: 'Summarise the news' }),
    mode: z.enum(EXECUTE_MODES).default('agent').openapi({
      description:
        'agent: the agent once; sequential/pipeline/debate: its sub-agents (else its workflow agent nodes) in that pattern; graph: its workflow_config',
    }),
    rounds: z.number().int().min(1).max(5).default(2).openapi({ description: 'debate: rounds before the summary' }),
  })
  .openapi('ExecuteAgentRequest');

export const AgentExecutionSchema = z
  .object({
    id: z.string().uuid(),
    agent_id: z.string(),
    mode: z.enum(EXECUTE_MODES),
    status: z.enum(['running', 'succeeded', 'failed']),
    input: z.string(),
    output: z.string().nullable(),
    steps: z.array(StepSchema),
    intermediate_outputs: z.array(z.string()).optional().openapi({ description: 'pipeline: every stage’s output, in order' }),
    token_usage: UsageSchema,
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
    created_at: z.string(),
  })
  .openapi('AgentExecution');

export const execute = createRoute({
  tags: ['agents'],
  ...authenticated,
  method: 'post',
  path: '/{agent_id}/execute',
  summary: 'Run the agent (agent | sequential | pipeline | debate | graph); the run is recorded as an execution',
  request: { params: idParam('agent_id'), body: jsonBody(ExecuteBody) },
  responses: {
    200: jsonContent(AgentExecutionSchema, 'The finished execution (status failed, with its error, when a model or tool failed)'),
    ...errors(401, 404),
    409: errorResponse('The agent or one of the agents it runs is stopped'),
    ...errors(422),
  },
});

export const executeHandler: RouteHandler<typeof execute, AppEnv> = async (c) =>
  c.json(await executeAgentInline(c.env, c.get('user'), c.req.valid('param').agent_id, c.req.valid('json')), 200);
