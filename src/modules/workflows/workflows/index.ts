import './tool';
import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

// Static paths before `/{workflow_id}` so `templates`, `validate` and `import` are never ids.
export const workflowsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.validate, handlers.validate)
  .openapi(routes.importWorkflow, handlers.importWorkflow)
  .openapi(routes.listTemplates, handlers.listTemplates)
  .openapi(routes.getTemplate, handlers.getTemplate)
  .openapi(routes.createFromTemplate, handlers.createFromTemplate)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.execute, handlers.execute)
  .openapi(routes.exportWorkflow, handlers.exportWorkflow)
  .openapi(routes.versions, handlers.versions)
  .openapi(routes.version, handlers.version)
  .openapi(routes.rollback, handlers.rollback);
