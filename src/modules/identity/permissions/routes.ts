import { createRoute, z } from '@hono/zod-openapi';
import { authenticated } from '../auth/guard';
import { paginatedSchema, PaginationQuery } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import {
  AssignRoleBody,
  CatalogueSchema,
  CheckBody,
  CheckResultSchema,
  CreateGrantBody,
  CreateRoleBody,
  GrantSchema,
  ResourceParams,
  RolePermissionsBody,
  RolePermissionsSchema,
  RoleSchema,
  UpdateRoleBody,
  UserGrantsQuery,
  UserRolesSchema,
} from './schemas';

const tags = ['permissions'];
const roleParams = idParam('role_id');
const userParams = idParam('user_id');
const userRoleParams = z.object({ ...userParams.shape, ...idParam('role_id').shape });
const grantParams = idParam('grant_id');

export const catalogue = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/catalogue',
  summary: 'The permission catalogue: every permission a role can hold, resource types and access levels',
  responses: { 200: jsonContent(CatalogueSchema, 'The catalogue'), ...errors(401) },
});

export const listRoles = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/roles',
  summary: 'Roles (builtin admin, user, viewer first) with their permissions',
  request: { query: PaginationQuery },
  responses: { 200: jsonContent(paginatedSchema(RoleSchema, 'RoleList'), 'A page of roles'), ...errors(401, 422) },
});

export const createRole = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/roles',
  summary: 'Create a role (permissions:manage)',
  request: { body: jsonBody(CreateRoleBody) },
  responses: { 201: jsonContent(RoleSchema, 'The new role'), ...errors(401, 403, 409, 422) },
});

export const getRole = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/roles/{role_id}',
  summary: 'A role',
  request: { params: roleParams },
  responses: { 200: jsonContent(RoleSchema, 'The role'), ...errors(401, 404) },
});

export const updateRole = createRoute({
  ...authenticated,
  tags,
  method: 'put',
  path: '/roles/{role_id}',
  summary: 'Update a role (permissions:manage); builtin roles keep their names, admin keeps every permission',
  request: { params: roleParams, body: jsonBody(UpdateRoleBody) },
  responses: { 200: jsonContent(RoleSchema, 'The updated role'), ...errors(401, 403, 404, 409, 422) },
});

export const deleteRole = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/roles/{role_id}',
  summary: 'Delete a role and its assignments (permissions:manage); builtin roles cannot be deleted (409)',
  request: { params: roleParams },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404, 409) },
});

export const getRolePermissions = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/roles/{role_id}/permissions',
  summary: 'The permissions of a role',
  request: { params: roleParams },
  responses: { 200: jsonContent(RolePermissionsSchema, 'The permissions'), ...errors(401, 404) },
});

export const setRolePermissions = createRoute({
  ...authenticated,
  tags,
  method: 'put',
  path: '/roles/{role_id}/permissions',
  summary: 'Replace the permissions of a role (permissions:manage)',
  request: { params: roleParams, body: jsonBody(RolePermissionsBody) },
  responses: { 200: jsonContent(RolePermissionsSchema, 'The new permissions'), ...errors(401, 403, 404, 409, 422) },
});

export const userRoles = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/users/{user_id}/roles',
  summary: "A user's roles and effective permissions (yourself, or anyone with permissions:manage)",
  request: { params: userParams },
  responses: { 200: jsonContent(UserRolesSchema, 'Roles and permissions'), ...errors(401, 404) },
});

export const assignRole = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/users/{user_id}/roles',
  summary: 'Assign a role to a user (permissions:manage; the admin role only by admins)',
  request: { params: userParams, body: jsonBody(AssignRoleBody) },
  responses: { 200: jsonContent(UserRolesSchema, 'The user’s roles now'), ...errors(401, 403, 404, 422) },
});

export const revokeRole = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/users/{user_id}/roles/{role_id}',
  summary: 'Revoke a role from a user (permissions:manage; the last admin keeps the admin role)',
  request: { params: userRoleParams },
  responses: { 204: { description: 'Revoked' }, ...errors(401, 403, 404, 409) },
});

export const userGrants = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/users/{user_id}/grants',
  summary: 'Resources shared with a user (yourself, or anyone with permissions:manage)',
  request: { params: userParams, query: UserGrantsQuery },
  responses: { 200: jsonContent(paginatedSchema(GrantSchema, 'GrantList'), 'A page of grants'), ...errors(401, 404, 422) },
});

export const resourceGrants = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/resources/{resource_type}/{resource_id}/grants',
  summary: 'Who a resource is shared with (needs admin access to it)',
  request: { params: ResourceParams, query: PaginationQuery },
  responses: { 200: jsonContent(paginatedSchema(GrantSchema), 'A page of grants'), ...errors(401, 403, 404, 422) },
});

export const createGrant = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/grants',
  summary: 'Share a resource with a user at a level (read < execute < write < admin); again to change the level',
  request: { body: jsonBody(CreateGrantBody) },
  responses: { 201: jsonContent(GrantSchema, 'The grant'), ...errors(401, 403, 404, 422) },
});

export const revokeGrant = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/grants/{grant_id}',
  summary: 'Revoke a grant (admin access to the resource, or the grantee leaving)',
  request: { params: grantParams },
  responses: { 204: { description: 'Revoked' }, ...errors(401, 403, 404) },
});

export const check = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/check',
  summary: 'Whether a user may do an action on a resource, and why (owner, admin, grant, role)',
  request: { body: jsonBody(CheckBody) },
  responses: { 200: jsonContent(CheckResultSchema, 'The decision'), ...errors(401, 404, 422) },
});
