import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

// by-name first so `by-name` is never taken for a workflow id.
export const webhooksRouter = createRouter()
  .openapi(routes.byName, handlers.byName)
  .openapi(routes.byId, handlers.byId);
