import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const goalsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.start, handlers.start)
  .openapi(routes.pause, handlers.pause)
  .openapi(routes.resume, handlers.resume)
  .openapi(routes.decompose, handlers.decompose)
  .openapi(routes.replan, handlers.replan)
  .openapi(routes.executeAsync, handlers.executeAsync)
  .openapi(routes.interact, handlers.interact)
  .openapi(routes.tasks, handlers.tasks);
