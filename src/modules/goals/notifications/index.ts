import './tool';
import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

// Fixed paths (/unread-count, /read-all) before /{id}.
export const notificationsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.unreadCount, handlers.unreadCount)
  .openapi(routes.readAll, handlers.readAll)
  .openapi(routes.markRead, handlers.markRead)
  .openapi(routes.remove, handlers.remove);
