import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const nodeTemplatesRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.nodeTypes, handlers.nodeTypes)
  .openapi(routes.get, handlers.get)
  .openapi(routes.create, handlers.create)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove);
