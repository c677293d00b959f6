import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/collaboration`: the editing rooms (CollabRoom Durable Objects). */
export const collaborationRouter = createRouter().openapi(routes.socket, handlers.socket).openapi(routes.users, handlers.users);
