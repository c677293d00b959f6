import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/agent-monitoring`: aggregates of llm_calls, tool_usage, runs and feedback. */
export const agentMonitoringRouter = createRouter()
  .openapi(routes.overview, handlers.overview)
  .openapi(routes.llmCalls, handlers.llmCalls)
  .openapi(routes.agentsStats, handlers.agentsStats)
  .openapi(routes.toolUsage, handlers.toolUsage)
  .openapi(routes.dailyTrend, handlers.dailyTrend);
