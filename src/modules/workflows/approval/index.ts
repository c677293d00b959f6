import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const approvalRouter = createRouter().openapi(routes.list, handlers.list).openapi(routes.decide, handlers.decide).openapi(routes.submit, handlers.submit);
