import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

// Static paths before `/{log_id}`.
export const executionLogsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.errorSummary, handlers.errorSummary)
  .openapi(routes.stats, handlers.stats)
  .openapi(routes.prune, handlers.prune)
  .openapi(routes.executionLog, handlers.executionLog)
  .openapi(routes.performance, handlers.performance)
  .openapi(routes.callChain, handlers.callChain)
  .openapi(routes.get, handlers.get);
