import './tool-provider';
import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

export const pluginsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.market, handlers.market)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.install, handlers.install)
  .openapi(routes.uninstall, handlers.uninstall)
  .openapi(routes.enable, handlers.enable)
  .openapi(routes.disable, handlers.disable);
