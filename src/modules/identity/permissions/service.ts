import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import {
  ACCESS_LEVELS,
  BUILTIN_ROLE_IDS,
  PERMISSION_CATALOGUE,
  RESOURCE_TYPES,
  authorize,
  decide,
  defaultRoleId,
  forgetPermissions,
  hasPermission,
  loadResourceRef,
  requirePermission,
  resourceLabel,
  userPermissions,
  type Action,
  type ResourceType,
} from './authorize';
import { runBatch } from '../../../db/client';
import { isUniqueViolation } from '../../../lib/d1';
import { conflict, forbidden, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { countActiveAdmins, findActiveUser, setUserRole } from '../auth/store';
import { forgetUser } from '../auth/guard';
import { insertNotification } from '../../goals/notifications/store';
import * as store from './store';
import type { Grant, Role } from './schemas';

const MANAGE = 'permissions:manage';

export function catalogue() {
  return { permissions: [...PERMISSION_CATALOGUE], resource_types: [...RESOURCE_TYPES], levels: [...ACCESS_LEVELS] };
}

// ---------------------------------------------------------------------------------------------
// Roles

const toRole = (r: store.RoleWithCounts): Role => ({
  id: r.id,
  name: r.name,
  description: r.description,
  is_builtin: r.isBuiltin === 1,
  permissions: r.permissions ? JSON.parse(r.permissions) : [],
  user_count: r.userCount,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

/** A name taken (drizzle wraps a single query's error; a batch's comes as D1 threw it). */
const isNameTaken = (e: unknown) => isUniqueViolation(e) || isUniqueViolation((e as Error | undefined)?.cause);

async function loadRole(env: Env, id: string): Promise<Role | null> {
  const row = await store.findRole(env.DB, id);
  return row ? toRole(row) : null;
}

export async function listRoles(env: Env, page: Pagination) {
  const { limit, offset } = pageBounds(page);
  const { rows, total } = await store.listRoles(env.DB, limit, offset);
  return paginated(rows.map(toRole), total, page);
}

export async function getRole(env: Env, id: string): Promise<Role> {
  const role = await loadRole(env, id);
  if (!role) throw notFound('Role');
  return role;
}

export async function createRole(env: Env, user: AuthUser, input: { name: string; description: string; permissions: string[] }): Promise<Role> {
  await requirePermission(env, user, MANAGE);
  const id = crypto.randomUUID();
  try {
    await runBatch(env.DB, store.insertRole(env.DB, { id, name: input.name, description: input.description }, input.permissions));
  } catch (e) {
    if (isNameTaken(e)) throw conflict(`A role named "${input.name}" already exists`);
    throw e;
  }
  return (await loadRole(env, id))!;
}

/** Builtin roles keep their name; the admin role keeps every permission. */
function assertEditable(role: Role, input: { name?: string; permissions?: string[] }) {
  if (!role.is_builtin) return;
  if (input.name !== undefined && input.name !== role.name) throw conflict(`The builtin role ${role.name} cannot be renamed`);
  if (role.id === BUILTIN_ROLE_IDS.admin && input.permissions !== undefined) throw conflict('The builtin admin role always holds every permission');
}

export async function updateRole(env: Env, user: AuthUser, id: string, input: { name?: string; description?: string; permissions?: string[] }): Promise<Role> {
  await requirePermission(env, user, MANAGE);
  const role = await getRole(env, id);
  assertEditable(role, input);
  try {
    await runBatch(env.DB, store.updateRole(env.DB, id, { name: input.name ?? role.name, description: input.description ?? role.description }, input.permissions));
    forgetPermissions();
  } catch (e) {
    if (isNameTaken(e)) throw conflict(`A role named "${input.name}" already exists`);
    throw e;
  }
  return (await loadRole(env, id))!;
}

export async function deleteRole(env: Env, user: AuthUser, id: string): Promise<void> {
  await requirePermission(env, user, MANAGE);
  const role = await getRole(env, id);
  if (role.is_builtin) throw conflict(`The builtin role ${role.name} cannot be deleted`);
  await runBatch(env.DB, store.deleteRole(env.DB, id));
  forgetPermissions();
}

export async function rolePermissions(env: Env, id: string) {
  const role = await getRole(env, id);
  return { role_id: role.id, permissions: role.permissions };
}

export async function setRolePermissions(env: Env, user: AuthUser, id: string, permissions: string[]) {
  const role = await updateRole(env, user, id, { permissions });
  return { role_id: role.id, permissions: role.permissions };
}

// ---------------------------------------------------------------------------------------------
// Users' roles

/** A user's roles changed here: this isolate reads their account role and permissions again at once. */
function forgetRoles(userId: string) {
  forgetUser(userId);
  forgetPermissions(userId);
}

/** Another user's data exists for the caller only with permissions:manage (or as admin). */
async function visibleUser(env: Env, caller: AuthUser, userId: string): Promise<AuthUser> {
  const target = userId === caller.id || (await hasPermission(env, caller, MANAGE)) ? await findActiveUser(env, userId) : null;
  if (!target) throw notFound('User');
  return target;
}

export async function userRoles(env: Env, caller: AuthUser, userId: string) {
  const target = await visibleUser(env, caller, userId);
  const assigned = await store.assignedRoles(env.DB, userId);
  let roles = assigned.map((r) => ({ role_id: r.roleId, name: r.name, is_builtin: r.isBuiltin === 1, assigned_at: r.assignedAt, implicit: false }));
  if (!roles.length) {
    const role = (await loadRole(env, defaultRoleId(target)))!;
    roles = [{ role_id: role.id, name: role.name, is_builtin: true, implicit: true, assigned_at: null as unknown as string }];
  }
  const permissions = [...(await userPermissions(env, target))].sort();
  return { user_id: userId, roles, permissions };
}

/**
 * Assigns a role. The first explicit assignment also records the account's default role, so
 * assigning `viewer` adds to what the user had; revoke `user` afterwards to make them read-only.
 * The builtin admin role is the account's admin flag (users.role) and only admins hand it out.
 */
export async function assignRole(env: Env, caller: AuthUser, userId: string, roleId: string) {
  await requirePermission(env, caller, MANAGE);
  const target = await visibleUser(env, caller, userId);
  const role = await loadRole(env, roleId);
  if (!role) throw validationError(`body.role_id: role ${roleId} not found`);
  if (role.id === BUILTIN_ROLE_IDS.admin && !isAdmin(caller)) throw forbidden('Only admins may make other users admins');
  await runBatch(env.DB, [
    store.assignDefaultRoleIfNone(env.DB, userId, defaultRoleId(target), caller.id),
    store.assignRole(env.DB, userId, roleId, caller.id),
    ...(role.id === BUILTIN_ROLE_IDS.admin ? [setUserRole(env.DB, userId, 'admin')] : []),
  ]);
  forgetRoles(userId);
  return userRoles(env, caller, userId);
}

export async function revokeRole(env: Env, caller: AuthUser, userId: string, roleId: string): Promise<void> {
  await requirePermission(env, caller, MANAGE);
  const target = await visibleUser(env, caller, userId);
  const revokingAdmin = roleId === BUILTIN_ROLE_IDS.admin;
  if (revokingAdmin) {
    if (!isAdmin(caller)) throw forbidden('Only admins may revoke the admin role');
    if (target.role !== 'admin') throw notFound('Role assignment');
    if ((await countActiveAdmins(env.DB)) <= 1) throw conflict('The last admin cannot lose the admin role');
    await runBatch(env.DB, [store.unassignRole(env.DB, userId, roleId), setUserRole(env.DB, userId, 'user')]);
    forgetRoles(userId);
    return;
  }
  const res = await store.unassignRole(env.DB, userId, roleId).run();
  forgetRoles(userId);
  if (res.meta.changes === 0) {
    const explicit = await store.hasAssignedRoles(env.DB, userId);
    if (!explicit && roleId === defaultRoleId(target)) throw conflict('This is the account’s default role; assign another role first, then revoke it');
    throw notFound('Role assignment');
  }
}

// ---------------------------------------------------------------------------------------------
// Resource grants

const toGrant = (g: store.GrantRow, userEmail: string | null): Grant => ({
  id: g.id,
  resource_type: g.resourceType as ResourceType,
  resource_id: g.resourceId,
  user_id: g.userId,
  level: g.level,
  granted_by: g.grantedBy,
  created_at: g.createdAt,
  updated_at: g.updatedAt,
  user_email: userEmail,
});

export async function listResourceGrants(env: Env, caller: AuthUser, type: ResourceType, id: string, page: Pagination) {
  // Who else has access is for those who control the resource.
  await authorize(env, caller, type, id, 'admin');
  const { limit, offset } = pageBounds(page);
  const { rows, total } = await store.listResourceGrants(env.DB, type, id, limit, offset);
  return paginated(rows.map((g) => toGrant(g, g.userEmail)), total, page);
}

export async function listUserGrants(env: Env, caller: AuthUser, userId: string, query: Pagination & { resource_type?: ResourceType }) {
  await visibleUser(env, caller, userId);
  const { limit, offset } = pageBounds(query);
  const { rows, total } = await store.listUserGrants(env.DB, userId, query.resource_type, limit, offset);
  return paginated(rows.map((g) => toGrant(g, g.userEmail)), total, query);
}

/** Shares a resource (or changes the level of an existing share) and tells the grantee. */
export async function createGrant(env: Env, caller: AuthUser, input: { resource_type: ResourceType; resource_id: string; user_id: string; level: Action }): Promise<Grant> {
  const access = await authorize(env, caller, input.resource_type, input.resource_id, 'admin');
  const grantee = await findActiveUser(env, input.user_id);
  if (!grantee) throw validationError(`body.user_id: user ${input.user_id} not found`);
  if (grantee.id === access.owner_id) throw validationError('body.user_id: the owner already has full access');
  const label = resourceLabel(input.resource_type).toLowerCase();
  const [[granted]] = (await runBatch(env.DB, [
    store.upsertGrant(env.DB, {
      id: crypto.randomUUID(),
      resourceType: input.resource_type,
      resourceId: input.resource_id,
      userId: input.user_id,
      level: input.level,
      grantedBy: caller.id,
    }),
    insertNotification(env.DB, grantee.id, {
      type: 'resource_shared',
      title: `${caller.nickname} shared a ${label} with you`,
      body: `You now have ${input.level} access.`,
      resourceType: input.resource_type,
      resourceId: input.resource_id,
    }),
  ])) as [store.GrantRow[], unknown];
  return toGrant(granted, grantee.email);
}

/** Those who control the resource revoke; a grantee may also drop their own grant. */
export async function revokeGrant(env: Env, caller: AuthUser, grantId: string): Promise<void> {
  const grant = await store.findGrant(env.DB, grantId);
  if (!grant) throw notFound('Grant');
  if (grant.userId !== caller.id) {
    const type = grant.resourceType as ResourceType;
    const resource = await loadResourceRef(env, type, grant.resourceId);
    // A grant on a resource that is gone is cleaned up by those who manage permissions.
    if (!resource) {
      if (!(await hasPermission(env, caller, MANAGE))) throw notFound('Grant');
    } else {
      const decision = await decide(env, caller, type, resource, 'admin');
      if (!decision.allowed) {
        if (decision.reason === 'not_found') throw notFound('Grant');
        throw forbidden('Only those with admin access to the resource may revoke its grants');
      }
    }
  }
  await store.deleteGrant(env.DB, grantId);
}

/** Would `user_id` (default: the caller) be allowed `action` on the resource, and why. */
export async function check(env: Env, caller: AuthUser, input: { user_id?: string; resource_type: ResourceType; resource_id: string; action: Action }) {
  const userId = input.user_id ?? caller.id;
  const target = await visibleUser(env, caller, userId);
  const subject: AuthUser = { ...target };
  const decision = await decide(env, subject, input.resource_type, await loadResourceRef(env, input.resource_type, input.resource_id), input.action);
  return {
    allowed: decision.allowed,
    reason: decision.reason,
    level: decision.level,
    user_id: userId,
    resource_type: input.resource_type,
    resource_id: input.resource_id,
    action: input.action,
  };
}
