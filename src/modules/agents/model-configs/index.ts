import './call-writer';
import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const modelConfigsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.test, handlers.test);
