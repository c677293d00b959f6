import './tool';
import { createRouter } from '../../../lib/router';
import { execute, executeHandler } from './execute';
import * as handlers from './handlers';
import * as routes from './routes';

export const agentsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.importAgent, handlers.importAgent)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.deploy, handlers.deploy)
  .openapi(routes.stop, handlers.stop)
  .openapi(routes.duplicate, handlers.duplicate)
  .openapi(routes.exportAgent, handlers.exportAgent)
  .openapi(routes.createMainAgent, handlers.createMainAgent)
  .openapi(routes.previewChatHistory, handlers.previewChatHistory)
  .openapi(execute, executeHandler);
