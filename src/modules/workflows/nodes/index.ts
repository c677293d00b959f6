import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const nodesRouter = createRouter().openapi(routes.run, handlers.run);
