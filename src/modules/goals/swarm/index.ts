import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const swarmRouter = createRouter().openapi(routes.run, handlers.run).openapi(routes.runStream, handlers.runStream);
