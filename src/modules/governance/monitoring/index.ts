import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/monitoring`: aggregates of the recorded tables (see sources.ts); the trace exporter (extension, docs/traces.md). */
export const monitoringRouter = createRouter()
  .openapi(routes.overview, handlers.overview)
  .openapi(routes.executions, handlers.executions)
  .openapi(routes.nodeTypes, handlers.nodeTypes)
  .openapi(routes.activities, handlers.activities)
  .openapi(routes.getTraceExporter, handlers.getTraceExporter)
  .openapi(routes.putTraceExporter, handlers.putTraceExporter)
  .openapi(routes.deleteTraceExporter, handlers.deleteTraceExporter);
