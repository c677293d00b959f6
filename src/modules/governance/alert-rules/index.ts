import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/alert-rules`; the cron step is evaluateAlertRules (evaluate.ts). Static paths before /{rule_id}. */
export const alertRulesRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.alerts, handlers.alerts)
  .openapi(routes.acknowledge, handlers.acknowledge)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.evaluate, handlers.evaluate);
