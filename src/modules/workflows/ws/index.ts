import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** Mounted at `/ws`: `/api/v1/ws/executions/{execution_id}`. */
export const wsRouter = createRouter().openapi(routes.watch, handlers.watch);
