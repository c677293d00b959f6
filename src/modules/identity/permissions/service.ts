import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import {
  ACCESS_LEVELS,
  BUILTIN_ROLE_IDS,
  PERMISSION_CATALOGUE,
  RESOURCE_TYPES,
  authorize,
  decide,
  hasPermission,
  loadResourceRef,
  requirePermission,
  resourceLabel,
  userPermissions,
  type Action,
  type ResourceType,
} from './authorize';
import { isUniqueViolation, NOW_SQL } from '../../../lib/d1';
import { conflict, forbidden, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { notificationStatement } from '../../goals/notifications/service';
import type { Grant, Role } from './schemas';

const MANAGE = 'permissions:manage';

export function catalogue() {
  return { permissions: [...PERMISSION_CATALOGUE], resource_types: [...RESOURCE_TYPES], levels: [...ACCESS_LEVELS] };
}

// ---------------------------------------------------------------------------------------------
// Roles

interface RoleRow {
  id: string;
  name: string;
  description: string;
  is_builtin: number;
  permissions: string | null;
  user_count: number;
  created_at: string;
  updated_at: string;
}

const SELECT_ROLE = `SELECT r.*,
  (SELECT json_group_array(permission) FROM (SELECT permission FROM role_permissions WHERE role_id = r.id ORDER BY permission)) AS permissions,
  (SELECT count(*) FROM user_roles WHERE role_id = r.id) AS user_count
  FROM roles r`;

const toRole = (r: RoleRow): Role => ({
  id: r.id,
  name: r.name,
  description: r.description,
  is_builtin: r.is_builtin === 1,
  permissions: r.permissions ? JSON.parse(r.permissions) : [],
  user_count: r.user_count,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

async function loadRole(env: Env, id: string): Promise<Role | null> {
  const row = await env.DB.prepare(`${SELECT_ROLE} WHERE r.id = ?`).bind(id).first<RoleRow>();
  return row ? toRole(row) : null;
}

export async function listRoles(env: Env, page: Pagination) {
  const { limit, offset } = pageBounds(page);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`${SELECT_ROLE} ORDER BY r.is_builtin DESC, r.created_at, r.name LIMIT ? OFFSET ?`).bind(limit, offset),
    env.DB.prepare('SELECT count(*) AS n FROM roles'),
  ]);
  return paginated((rows.results as unknown as RoleRow[]).map(toRole), (count.results[0] as { n: number }).n, page);
}

export async function getRole(env: Env, id: string): Promise<Role> {
  const role = await loadRole(env, id);
  if (!role) throw notFound('Role');
  return role;
}

const permissionInserts = (env: Env, roleId: string, permissions: string[]) =>
  permissions.map((p) => env.DB.prepare('INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)').bind(roleId, p));

export async function createRole(env: Env, user: AuthUser, input: { name: string; description: string; permissions: string[] }): Promise<Role> {
  await requirePermission(env, user, MANAGE);
  const id = crypto.randomUUID();
  try {
    await env.DB.batch([
      env.DB.prepare('INSERT INTO roles (id, name, description) VALUES (?, ?, ?)').bind(id, input.name, input.description),
      ...permissionInserts(env, id, input.permissions),
    ]);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A role named "${input.name}" already exists`);
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
  const statements: D1PreparedStatement[] = [
    env.DB.prepare(`UPDATE roles SET name = ?, description = ?, updated_at = ${NOW_SQL} WHERE id = ?`).bind(input.name ?? role.name, input.description ?? role.description, id),
  ];
  if (input.permissions) statements.push(env.DB.prepare('DELETE FROM role_permissions WHERE role_id = ?').bind(id), ...permissionInserts(env, id, input.permissions));
  try {
    await env.DB.batch(statements);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`A role named "${input.name}" already exists`);
    throw e;
  }
  return (await loadRole(env, id))!;
}

export async function deleteRole(env: Env, user: AuthUser, id: string): Promise<void> {
  await requirePermission(env, user, MANAGE);
  const role = await getRole(env, id);
  if (role.is_builtin) throw conflict(`The builtin role ${role.name} cannot be deleted`);
  await env.DB.batch([
    env.DB.prepare('DELETE FROM user_roles WHERE role_id = ?').bind(id),
    env.DB.prepare('DELETE FROM role_permissions WHERE role_id = ?').bind(id),
    env.DB.prepare('DELETE FROM roles WHERE id = ?').bind(id),
  ]);
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

interface UserRow {
  id: string;
  email: string;
  nickname: string;
  role: 'admin' | 'user';
}

async function loadUser(env: Env, id: string): Promise<UserRow | null> {
  return env.DB.prepare("SELECT id, email, nickname, role FROM users WHERE id = ? AND status = 'active'").bind(id).first<UserRow>();
}

/** Another user's data exists for the caller only with permissions:manage (or as admin). */
async function visibleUser(env: Env, caller: AuthUser, userId: string): Promise<UserRow> {
  const target = userId === caller.id || (await hasPermission(env, caller, MANAGE)) ? await loadUser(env, userId) : null;
  if (!target) throw notFound('User');
  return target;
}

const defaultRoleId = (u: { role: string }) => (u.role === 'admin' ? BUILTIN_ROLE_IDS.admin : BUILTIN_ROLE_IDS.user);

export async function userRoles(env: Env, caller: AuthUser, userId: string) {
  const target = await visibleUser(env, caller, userId);
  const { results } = await env.DB.prepare(
    `SELECT r.id AS role_id, r.name, r.is_builtin, ur.created_at AS assigned_at
       FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? ORDER BY ur.created_at, r.name`,
  )
    .bind(userId)
    .all<{ role_id: string; name: string; is_builtin: number; assigned_at: string }>();
  let roles = results.map((r) => ({ ...r, is_builtin: r.is_builtin === 1, implicit: false }));
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
  await env.DB.batch([
    env.DB.prepare(
      'INSERT INTO user_roles (user_id, role_id, assigned_by) SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM user_roles WHERE user_id = ?1)',
    ).bind(userId, defaultRoleId(target), caller.id),
    env.DB.prepare('INSERT OR IGNORE INTO user_roles (user_id, role_id, assigned_by) VALUES (?, ?, ?)').bind(userId, roleId, caller.id),
    ...(role.id === BUILTIN_ROLE_IDS.admin ? [env.DB.prepare(`UPDATE users SET role = 'admin', updated_at = ${NOW_SQL} WHERE id = ?`).bind(userId)] : []),
  ]);
  return userRoles(env, caller, userId);
}

export async function revokeRole(env: Env, caller: AuthUser, userId: string, roleId: string): Promise<void> {
  await requirePermission(env, caller, MANAGE);
  const target = await visibleUser(env, caller, userId);
  const revokingAdmin = roleId === BUILTIN_ROLE_IDS.admin;
  if (revokingAdmin) {
    if (!isAdmin(caller)) throw forbidden('Only admins may revoke the admin role');
    if (target.role !== 'admin') throw notFound('Role assignment');
    const admins = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin' AND status = 'active'").first<{ n: number }>();
    if (admins!.n <= 1) throw conflict('The last admin cannot lose the admin role');
    await env.DB.batch([
      env.DB.prepare('DELETE FROM user_roles WHERE user_id = ? AND role_id = ?').bind(userId, roleId),
      env.DB.prepare(`UPDATE users SET role = 'user', updated_at = ${NOW_SQL} WHERE id = ?`).bind(userId),
    ]);
    return;
  }
  const res = await env.DB.prepare('DELETE FROM user_roles WHERE user_id = ? AND role_id = ?').bind(userId, roleId).run();
  if (res.meta.changes === 0) {
    const explicit = await env.DB.prepare('SELECT 1 AS x FROM user_roles WHERE user_id = ? LIMIT 1').bind(userId).first();
    if (!explicit && roleId === defaultRoleId(target)) throw conflict('This is the account’s default role; assign another role first, then revoke it');
    throw notFound('Role assignment');
  }
}

// ---------------------------------------------------------------------------------------------
// Resource grants

interface GrantRow extends Omit<Grant, 'user_email'> {
  user_email: string | null;
}

const SELECT_GRANT = 'SELECT g.*, u.email AS user_email FROM resource_grants g LEFT JOIN users u ON u.id = g.user_id';

export async function listResourceGrants(env: Env, caller: AuthUser, type: ResourceType, id: string, page: Pagination) {
  // Who else has access is for those who control the resource.
  await authorize(env, caller, type, id, 'admin');
  const { limit, offset } = pageBounds(page);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`${SELECT_GRANT} WHERE g.resource_type = ? AND g.resource_id = ? ORDER BY g.created_at, g.id LIMIT ? OFFSET ?`).bind(type, id, limit, offset),
    env.DB.prepare('SELECT count(*) AS n FROM resource_grants WHERE resource_type = ? AND resource_id = ?').bind(type, id),
  ]);
  return paginated(rows.results as unknown as GrantRow[], (count.results[0] as { n: number }).n, page);
}

export async function listUserGrants(env: Env, caller: AuthUser, userId: string, query: Pagination & { resource_type?: ResourceType }) {
  await visibleUser(env, caller, userId);
  const where = ['g.user_id = ?'];
  const binds: unknown[] = [userId];
  if (query.resource_type) {
    where.push('g.resource_type = ?');
    binds.push(query.resource_type);
  }
  const clause = where.join(' AND ');
  const { limit, offset } = pageBounds(query);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`${SELECT_GRANT} WHERE ${clause} ORDER BY g.created_at DESC, g.id LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM resource_grants g WHERE ${clause}`).bind(...binds),
  ]);
  return paginated(rows.results as unknown as GrantRow[], (count.results[0] as { n: number }).n, query);
}

/** Shares a resource (or changes the level of an existing share) and tells the grantee. */
export async function createGrant(env: Env, caller: AuthUser, input: { resource_type: ResourceType; resource_id: string; user_id: string; level: Action }): Promise<Grant> {
  const access = await authorize(env, caller, input.resource_type, input.resource_id, 'admin');
  const grantee = await loadUser(env, input.user_id);
  if (!grantee) throw validationError(`body.user_id: user ${input.user_id} not found`);
  if (grantee.id === access.owner_id) throw validationError('body.user_id: the owner already has full access');
  const label = resourceLabel(input.resource_type).toLowerCase();
  const [granted] = await env.DB.batch<GrantRow>([
    env.DB.prepare(
      `INSERT INTO resource_grants (id, resource_type, resource_id, user_id, level, granted_by) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (resource_type, resource_id, user_id) DO UPDATE SET level = excluded.level, granted_by = excluded.granted_by, updated_at = ${NOW_SQL}
       RETURNING *`,
    ).bind(crypto.randomUUID(), input.resource_type, input.resource_id, input.user_id, input.level, caller.id),
    notificationStatement(env, grantee.id, {
      type: 'resource_shared',
      title: `${caller.nickname} shared a ${label} with you`,
      body: `You now have ${input.level} access.`,
      resource_type: input.resource_type,
      resource_id: input.resource_id,
    }),
  ]);
  return { ...granted.results[0], user_email: grantee.email };
}

/** Those who control the resource revoke; a grantee may also drop their own grant. */
export async function revokeGrant(env: Env, caller: AuthUser, grantId: string): Promise<void> {
  const grant = await env.DB.prepare('SELECT * FROM resource_grants WHERE id = ?').bind(grantId).first<Grant>();
  if (!grant) throw notFound('Grant');
  if (grant.user_id !== caller.id) {
    const resource = await loadResourceRef(env, grant.resource_type, grant.resource_id);
    // A grant on a resource that is gone is cleaned up by those who manage permissions.
    if (!resource) {
      if (!(await hasPermission(env, caller, MANAGE))) throw notFound('Grant');
    } else {
      const decision = await decide(env, caller, grant.resource_type, resource, 'admin');
      if (!decision.allowed) {
        if (decision.reason === 'not_found') throw notFound('Grant');
        throw forbidden('Only those with admin access to the resource may revoke its grants');
      }
    }
  }
  await env.DB.prepare('DELETE FROM resource_grants WHERE id = ?').bind(grantId).run();
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
