import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** OpenAI-compatible API: any OpenAI client (base URL `/api/v1/openai`, an API key) talks to agents. */
export const openaiRouter = createRouter().openapi(routes.listModels, handlers.listModels).openapi(routes.chatCompletions, handlers.chatCompletions);
