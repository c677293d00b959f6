import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const batchRouter = createRouter()
  .openapi(routes.execute, handlers.execute)
  .openapi(routes.exportResources, handlers.exportResources)
  .openapi(routes.deleteResources, handlers.deleteResources);
