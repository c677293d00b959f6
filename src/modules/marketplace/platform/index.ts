import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** Static paths first: /scenarios/categories before /scenarios/{scenario_id}. */
export const platformRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.categories, handlers.categories)
  .openapi(routes.get, handlers.get)
  .openapi(routes.quickCreate, handlers.quickCreate);
