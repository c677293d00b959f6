import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

type H<R extends keyof typeof routes> = RouteHandler<(typeof routes)[R], AppEnv>;

export const catalogue: H<'catalogue'> = async (c) => c.json(service.catalogue(), 200);
export const listRoles: H<'listRoles'> = async (c) => c.json(await service.listRoles(c.env, c.req.valid('query')), 200);
export const createRole: H<'createRole'> = async (c) => c.json(await service.createRole(c.env, c.get('user'), c.req.valid('json')), 201);
export const getRole: H<'getRole'> = async (c) => c.json(await service.getRole(c.env, c.req.valid('param').role_id), 200);
export const updateRole: H<'updateRole'> = async (c) =>
  c.json(await service.updateRole(c.env, c.get('user'), c.req.valid('param').role_id, c.req.valid('json')), 200);
export const deleteRole: H<'deleteRole'> = async (c) => {
  await service.deleteRole(c.env, c.get('user'), c.req.valid('param').role_id);
  return c.body(null, 204);
};
export const getRolePermissions: H<'getRolePermissions'> = async (c) => c.json(await service.rolePermissions(c.env, c.req.valid('param').role_id), 200);
export const setRolePermissions: H<'setRolePermissions'> = async (c) =>
  c.json(await service.setRolePermissions(c.env, c.get('user'), c.req.valid('param').role_id, c.req.valid('json').permissions), 200);
export const userRoles: H<'userRoles'> = async (c) => c.json(await service.userRoles(c.env, c.get('user'), c.req.valid('param').user_id), 200);
export const assignRole: H<'assignRole'> = async (c) =>
  c.json(await service.assignRole(c.env, c.get('user'), c.req.valid('param').user_id, c.req.valid('json').role_id), 200);
export const revokeRole: H<'revokeRole'> = async (c) => {
  const { user_id, role_id } = c.req.valid('param');
  await service.revokeRole(c.env, c.get('user'), user_id, role_id);
  return c.body(null, 204);
};
export const userGrants: H<'userGrants'> = async (c) =>
  c.json(await service.listUserGrants(c.env, c.get('user'), c.req.valid('param').user_id, c.req.valid('query')), 200);
export const resourceGrants: H<'resourceGrants'> = async (c) => {
  const { resource_type, resource_id } = c.req.valid('param');
  return c.json(await service.listResourceGrants(c.env, c.get('user'), resource_type, resource_id, c.req.valid('query')), 200);
};
export const createGrant: H<'createGrant'> = async (c) => c.json(await service.createGrant(c.env, c.get('user'), c.req.valid('json')), 201);
export const revokeGrant: H<'revokeGrant'> = async (c) => {
  await service.revokeGrant(c.env, c.get('user'), c.req.valid('param').grant_id);
  return c.body(null, 204);
};
export const check: H<'check'> = async (c) => c.json(await service.check(c.env, c.get('user'), c.req.valid('json')), 200);
