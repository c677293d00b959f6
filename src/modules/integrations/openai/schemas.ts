import { z } from '@hono/zod-openapi';
import { eventStream } from '../../../lib/schemas';

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

export const ChatCompletionChunkSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    created: z.int(),
    model: z.string(),
    system_fingerprint: z.string().nullable(),
    choices: z
      .array(
        z.object({
          index: z.int(),
          delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional(), refusal: z.null().optional() }),
          logprobs: z.null(),
          finish_reason: z.enum(['stop', 'length']).nullable(),
        }),
      )
      .meta({ description: 'Empty in the usage chunk' }),
    usage: UsageSchema.nullable()
      .optional()
      .meta({ description: 'With stream_options.include_usage: null on every chunk but a last one (no choices) that holds the totals' }),
  })
  .openapi('ChatCompletionChunk');

/** `stream: true`: chunks as bare `data:` lines, a failure after the headers as an OpenAI error object, then `[DONE]`. */
export const ChatCompletionEvents = eventStream(
  'ChatCompletion',
  {
    message: z.union([
      ChatCompletionChunkSchema,
      z.object({ error: z.object({ message: z.string(), type: z.enum(['invalid_request_error', 'server_error']), code: z.string() }) }).meta({ description: 'The turn failed after the stream began' }),
      z.literal('[DONE]').meta({ description: 'The end of the stream' }),
    ]),
  },
  { ids: false },
);

export const ModelSchema = z
  .object({ id: z.string(), object: z.literal('model'), created: z.int(), owned_by: z.string() })
  .openapi('OpenAiModel');

export const ModelListSchema = z.object({ object: z.literal('list'), data: z.array(ModelSchema) }).openapi('OpenAiModelList');
