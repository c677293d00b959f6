import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/permissions`: roles, the catalogue, role assignments, resource grants, check. */
export const permissionsRouter = createRouter()
  .openapi(routes.catalogue, handlers.catalogue)
  .openapi(routes.check, handlers.check)
  .openapi(routes.listRoles, handlers.listRoles)
  .openapi(routes.createRole, handlers.createRole)
  .openapi(routes.getRole, handlers.getRole)
  .openapi(routes.updateRole, handlers.updateRole)
  .openapi(routes.deleteRole, handlers.deleteRole)
  .openapi(routes.getRolePermissions, handlers.getRolePermissions)
  .openapi(routes.setRolePermissions, handlers.setRolePermissions)
  .openapi(routes.userRoles, handlers.userRoles)
  .openapi(routes.assignRole, handlers.assignRole)
  .openapi(routes.revokeRole, handlers.revokeRole)
  .openapi(routes.userGrants, handlers.userGrants)
  .openapi(routes.resourceGrants, handlers.resourceGrants)
  .openapi(routes.createGrant, handlers.createGrant)
  .openapi(routes.revokeGrant, handlers.revokeGrant);
