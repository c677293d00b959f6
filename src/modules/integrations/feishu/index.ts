import './tool';
import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const feishuRouter = createRouter()
  .openapi(routes.event, handlers.event)
  .openapi(routes.bind, handlers.bind)
  .openapi(routes.unbind, handlers.unbind)
  .openapi(routes.lookup, handlers.lookup)
  .openapi(routes.status, handlers.status)
  .openapi(routes.pending, handlers.pending)
  .openapi(routes.bindPending, handlers.bindPending)
  .openapi(routes.getDefaultAgent, handlers.getDefaultAgent)
  .openapi(routes.setDefaultAgent, handlers.setDefaultAgent);
