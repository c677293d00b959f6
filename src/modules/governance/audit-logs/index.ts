import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/audit-logs` (entries are written by the recordRequests middleware, src/lib/audit.ts). */
export const auditLogsRouter = createRouter().openapi(routes.stats, handlers.stats).openapi(routes.list, handlers.list);
