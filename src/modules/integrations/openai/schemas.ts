import { z } from '@hono/zod-openapi';

// The OpenAI Chat Completions wire format (field names are OpenAI's, not snake_case by choice).
// Unknown request fields (temperature, tools, ...) are accepted and ignored: the agent's own
// configuration decides model parameters and tools.

const TextPart = z.object({ type: z.literal('text'), text: z.string() });

export const OpenAiMessage = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant']),
    content: z.union([z.string(), z.array(TextPart)]).nullable().optional(),
    name: z.string().optional(),
  })
  .openapi('OpenAiMessage');

export const ChatCompletionBody = z
  .object({
    model: z.string().min(1).meta({ description: 'The id of the agent to run (see GET /models)' }),
    messages: z.array(OpenAiMessage).min(1).max(500),
    stream: z.boolean().optional().default(false),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
    n: z.literal(1).optional().meta({ description: 'Only one choice is produced' }),
    user: z.string().optional(),
  })
  .openapi('ChatCompletionRequest');
export type ChatCompletionInput = z.infer<typeof ChatCompletionBody>;

const UsageSchema = z.object({ prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() });

export const ChatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.int(),
    model: z.string(),
    system_fingerprint: z.string().nullable(),
    choices: z.array(
      z.object({
        index: z.int(),
        message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.string().nullable() }),
        logprobs: z.null(),
        finish_reason: z.enum(['stop', 'length']),
      }),
    ),
    usage: UsageSchema,
  })
  .openapi('ChatCompletion', {
    description: 'With `stream: true` the response is instead `text/event-stream` of `chat.completion.chunk` objects as `data:` lines, ended by `data: [DONE]`',
  });
export type ChatCompletion = z.infer<typeof ChatCompletionSchema>;

export const ModelSchema = z
  .object({ id: z.string(), object: z.literal('model'), created: z.int(), owned_by: z.string() })
  .openapi('OpenAiModel');

export const ModelListSchema = z.object({ object: z.literal('list'), data: z.array(ModelSchema) }).openapi('OpenAiModelList');
