import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';
import { ErrorSchema, eventStream } from '../../../lib/schemas';
import { MULTITASK_STRATEGIES } from '../../../../durable-objects/contracts';

export const ChatMessageSchema = z
  .object({
    id: z.string(),
    session_id: z.string(),
    seq: z.int(),
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string().nullable(),
    tool_calls: z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() })).nullable(),
    tool_call_id: z.string().nullable(),
    name: z.string().nullable(),
    interrupted: z.boolean().meta({ description: 'Extension: the partial answer of a turn a newer message interrupted (multitask_strategy `interrupt`)' }),
    created_at: z.string(),
  })
  .openapi('ChatMessage');

const message = z.string().min(1).max(100_000);

export const ChatBody = z
  .object({
    message: message.openapi({ example: '你好' }),
    session_id: z.string().uuid().optional().openapi({ description: 'Continue this session (its history is restored); absent: a new session' }),
    streamlined: z.boolean().default(false).openapi({ description: 'Answer only the final reply (no tool calls or usage; no tool events when streaming)' }),
    multitask_strategy: z.enum(MULTITASK_STRATEGIES).optional().openapi({
      description:
        'Extension (double-texting): what this message does while a turn of the session is still running. ' +
        '`reject`: 409 TURN_IN_PROGRESS naming the running turn (X-Running-Turn-Id); `enqueue` (default): runs after it, in order; ' +
        '`interrupt`: the running turn stops now, its partial answer kept and marked interrupted; `rollback`: the running turn is discarded, nothing of it saved',
    }),
  })
  .openapi('ChatRequest');

export const LastEventIdHeader = z.object({
  'last-event-id': z
    .string()
    .optional()
    .openapi({
      param: { name: 'last-event-id', in: 'header' },
      description: 'Last-Event-ID (header names are case-insensitive). Reconnect: the events of the same turn after this id (needs session_id); no new turn is started',
    }),
});

export const UsageSchema = z
  .object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() })
  .openapi('TokenUsage');

export const ToolCallRecordSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    arguments: z.unknown(),
    output: z.unknown(),
    error: z.string().optional(),
    duration_ms: z.number(),
  })
  .openapi('ChatToolCall');

/** `interrupted` (extension): a newer message interrupted the turn; the reply is what it had said. */
const FINISH_REASONS = ['stop', 'iteration_limit', 'interrupted'] as const;

export const ChatResponseSchema = z
  .object({
    session_id: z.string().uuid(),
    reply: z.string(),
    message_id: z.string().uuid().optional().openapi({ description: 'The reply message (to branch from it)' }),
    user_message_id: z.string().uuid().optional(),
    tool_calls: z.array(ToolCallRecordSchema).optional(),
    token_usage: UsageSchema.optional(),
    iterations: z.number().int().optional(),
    finish_reason: z.enum(FINISH_REASONS).optional(),
  })
  .openapi('ChatResponse', { description: 'With `streamlined: true` only session_id and reply' });

/** The events of a streamed chat turn (token, tool_call, tool_result, then done or error). */
const chatEvents = eventStream('Chat', {
  token: z.object({ text: z.string() }).meta({ description: 'A piece of the reply' }),
  tool_call: z.object({ id: z.string(), name: z.string(), arguments: z.unknown() }).meta({ description: 'A tool call starts (not sent with streamlined)' }),
  tool_result: z
    .object({ id: z.string(), name: z.string(), output: z.unknown(), error: z.string().optional(), duration_ms: z.number() })
    .meta({ description: 'A tool call’s result (not sent with streamlined)' }),
  done: z
    .object({
      session_id: z.string().uuid(),
      message_id: z.string().uuid(),
      reply: z.string(),
      token_usage: UsageSchema,
      iterations: z.number().int(),
      finish_reason: z.enum(FINISH_REASONS),
    })
    .meta({ description: 'The turn is complete; the last event' }),
  resumed: z
    .object({ turn_id: z.string(), steps: z.int() })
    .meta({ description: 'Extension: the turn resumed after a server restart from its recorded steps (tokens of an unfinished model answer are sent again)' }),
  // The turn failed (e.g. LLM_ERROR, INTERRUPTED, TURN_ROLLED_BACK); the last event.
  error: ErrorSchema,
});

export const sseContent = (description: string) => ({ description, content: chatEvents });

export const ORCHESTRATION_MODES = ['route', 'sequential', 'debate'] as const;

export const OrchestrateBody = z
  .object({
    mode: z.enum(ORCHESTRATION_MODES).optional().openapi({ description: 'Required unless template_id is given' }),
    agent_ids: z.array(z.string().uuid()).min(1).max(20).optional().openapi({ description: 'Required unless template_id is given' }),
    template_id: z.string().uuid().optional().openapi({ description: 'An orchestration template (builtin or yours): its mode, step order, rounds or graph' }),
    roles: z
      .record(z.string().min(1).max(50), z.string().uuid())
      .optional()
      .openapi({ description: 'With template_id: the agent for each role of the template', example: { author: '6f1c3c1e-8a4b-4c2e-9d7a-2b0f5e4a1c3d' } }),
    message,
    rounds: z.number().int().min(1).max(5).optional().openapi({ description: 'debate: rounds before the summary (default 2, or the template’s)' }),
  })
  .superRefine((b, ctx) => {
    if (b.template_id) {
      if (!b.roles) ctx.addIssue({ code: 'custom', path: ['roles'], message: 'an agent for each role of the template is required' });
      return;
    }
    if (!b.mode) ctx.addIssue({ code: 'custom', path: ['mode'], message: 'required (or give template_id)' });
    if (!b.agent_ids) ctx.addIssue({ code: 'custom', path: ['agent_ids'], message: 'required (or give template_id)' });
    else if (b.agent_ids.length > 10) ctx.addIssue({ code: 'custom', path: ['agent_ids'], message: 'at most 10 agents' });
  })
  .openapi('OrchestrateRequest');

export const GraphBody = z
  .object({
    nodes: z
      .array(z.object({ id: z.string().trim().min(1).max(100), agent_id: z.string().uuid() }))
      .min(1)
      .max(20),
    edges: z.array(z.object({ source: z.string().min(1).max(100), target: z.string().min(1).max(100) })).max(100).default([]),
    message,
  })
  .openapi('OrchestrateGraphRequest');

export const StepSchema = z
  .object({
    agent_id: z.string(),
    agent_name: z.string(),
    input: z.string(),
    output: z.string(),
    token_usage: UsageSchema,
    duration_ms: z.number(),
    round: z.number().int().optional(),
    node_id: z.string().optional(),
    role: z.enum(['answer', 'summary', 'router']).optional(),
  })
  .openapi('OrchestrationStep');

export const OrchestrationResultSchema = z
  .object({
    mode: z.string(),
    steps: z.array(StepSchema),
    output: z.string(),
    token_usage: UsageSchema,
    routed_to: z.object({ agent_id: z.string(), agent_name: z.string(), reason: z.string() }).optional(),
    intermediate_outputs: z.array(z.string()).optional().openapi({ description: 'pipeline: every stage’s output, in order' }),
  })
  .openapi('OrchestrationResult');

export const CreateBranchBody = z
  .object({
    session_id: z.string().uuid(),
    message_id: z.string().uuid().openapi({ description: 'The branch holds the conversation up to and including this message' }),
    name: z.string().trim().min(1).max(100).optional(),
  })
  .openapi('CreateBranchRequest');

export const BranchListQuery = PaginationQuery.extend({
  session_id: z.string().uuid().optional().openapi({ description: 'Only branches of this session' }),
});

export const BranchSchema = z
  .object({
    id: z.string().uuid(),
    session_id: z.string().uuid().openapi({ description: 'The session it was forked from' }),
    agent_id: z.string().nullable(),
    name: z.string(),
    forked_from_message_id: z.string(),
    message_count: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('ChatBranch');

export const BranchDetailSchema = BranchSchema.extend({ messages: z.array(ChatMessageSchema) }).openapi('ChatBranchDetail');

export const ResumeBody = z
  .object({ message, streamlined: z.boolean().default(false) })
  .openapi('ResumeBranchRequest');

export type ChatInput = z.infer<typeof ChatBody>;
export type OrchestrateInput = z.infer<typeof OrchestrateBody>;
export type GraphInput = z.infer<typeof GraphBody>;
export type CreateBranchInput = z.infer<typeof CreateBranchBody>;
export type BranchListInput = z.infer<typeof BranchListQuery>;
