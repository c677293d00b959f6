import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/system-logs` (written by src/lib/audit.ts, src/lib/system-log.ts; retention: src/lib/retention.ts). */
export const systemLogsRouter = createRouter()
  .openapi(routes.stats, handlers.stats)
  .openapi(routes.application, handlers.application)
  .openapi(routes.list, handlers.list);
