import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';
// Registers the agent and workflow documents the CollabRoom actor edits (src/runs/collab-documents.ts).
import './documents';

/** `/api/v1/collaboration`: the editing rooms (CollabRoom Durable Objects). */
export const collaborationRouter = createRouter().openapi(routes.socket, handlers.socket).openapi(routes.users, handlers.users);
