import './tool';
import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

// /available/{goal_id} before /{task_id}.
export const tasksRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.available, handlers.available)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.execute, handlers.execute)
  .openapi(routes.retry, handlers.retry)
  .openapi(routes.claim, handlers.claim)
  .openapi(routes.release, handlers.release)
  .openapi(routes.complete, handlers.complete)
  .openapi(routes.fail, handlers.fail)
  .openapi(routes.approve, handlers.approve)
  .openapi(routes.reject, handlers.reject)
  .openapi(routes.blockers, handlers.blockers);
