import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const uploadsRouter = createRouter().openapi(routes.upload, handlers.upload).openapi(routes.preview, handlers.preview);
