import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { errorResponse, errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { ChatCompletionBody, ChatCompletionEvents, ChatCompletionSchema, ModelListSchema } from './schemas';

const tags = ['openai'];

export const listModels = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/models',
  summary: "The caller's deployed agents as OpenAI models (the model id is the agent id)",
  responses: {
    200: jsonContent(ModelListSchema, 'OpenAI model list'),
    ...errors(401),
  },
});

export const chatCompletions = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/chat/completions',
  summary: 'Run an agent with OpenAI Chat Completions messages; streaming (`chat.completion.chunk` deltas, `[DONE]`) or not',
  request: { body: jsonBody(ChatCompletionBody) },
  responses: {
    200: {
      description: 'A chat.completion, or with `stream: true` a text/event-stream of chat.completion.chunk objects',
      content: {
        'application/json': { schema: ChatCompletionSchema },
        ...ChatCompletionEvents,
      },
    },
    ...errors(401, 403, 404, 409, 422),
    502: errorResponse('The model failed'),
  },
});
