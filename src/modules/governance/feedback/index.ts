import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/feedback`: record, analysis per agent, negative samples (exportable). */
export const feedbackRouter = createRouter()
  .openapi(routes.record, handlers.record)
  .openapi(routes.analysis, handlers.analysis)
  .openapi(routes.negativeSamples, handlers.negativeSamples);
