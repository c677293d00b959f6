import './tool-host';
import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

// Fixed paths are registered before /{tool_id} so they are never read as a tool id.
export const toolsRouter = createRouter()
  .openapi(routes.listTools, handlers.listTools)
  .openapi(routes.listCategories, handlers.listCategories)
  .openapi(routes.listBuiltin, handlers.listBuiltin)
  .openapi(routes.testHttp, handlers.testHttp)
  .openapi(routes.testCode, handlers.testCode)
  .openapi(routes.createTool, handlers.createTool)
  .openapi(routes.getTool, handlers.getTool)
  .openapi(routes.updateTool, handlers.updateTool)
  .openapi(routes.deleteTool, handlers.deleteTool)
  .openapi(routes.useTool, handlers.useTool);
