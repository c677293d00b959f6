import { setCallWriter } from '../../../engine/llm/gateway';
import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';
import { writeLlmCall } from './store';

// Model calls made without a recorder (knowledge answers, LLM nodes, ai tools) are written here, when they end.
setCallWriter((env, record) => writeLlmCall(env.DB, record));

export const modelConfigsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.test, handlers.test);
