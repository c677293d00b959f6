import { and, count, desc, eq, getTableColumns, inArray, notExists, or, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { db, now, type Statement } from '../../../db/client';
import { resourceGrants, rolePermissions, roles, userRoles } from '../../../db/schema/permissions';
import { userEmailOf } from '../auth/store';

/**
 * The store of roles, role_permissions, user_roles and resource_grants. It knows no policy
 * (authorize.ts decides; it passes the default role of an account and the levels that count).
 */

export type RoleRow = typeof roles.$inferSelect;
export type GrantRow = typeof resourceGrants.$inferSelect;
type Level = GrantRow['level'];

// ---------------------------------------------------------------------------------------------
// What a user's roles and grants give

/**
 * The permissions of a user's roles: their explicit role assignments, or — with none — the
 * account's default role (`defaultRoleId`). One statement.
 */
export function rolePermissionsOf(d1: D1Database, userId: string, defaultRoleId: string) {
  const explicit = db(d1).select({ roleId: userRoles.roleId }).from(userRoles).where(eq(userRoles.userId, userId));
  return db(d1)
    .select({ permission: rolePermissions.permission })
    .from(rolePermissions)
    .where(or(inArray(rolePermissions.roleId, explicit), and(eq(rolePermissions.roleId, defaultRoleId), notExists(explicit))));
}

export async function permissionNames(d1: D1Database, userId: string, defaultRoleId: string): Promise<string[]> {
  return (await rolePermissionsOf(d1, userId, defaultRoleId)).map((r) => r.permission);
}

/** A user's grant level on one resource and their roles' permissions: one round trip. */
export async function levelSources(d1: D1Database, type: string, resourceId: string, userId: string, defaultRoleId: string) {
  const [grant, perms] = await db(d1).batch([
    db(d1)
      .select({ level: resourceGrants.level })
      .from(resourceGrants)
      .where(and(eq(resourceGrants.resourceType, type), eq(resourceGrants.resourceId, resourceId), eq(resourceGrants.userId, userId))),
    rolePermissionsOf(d1, userId, defaultRoleId),
  ]);
  return { granted: (grant[0]?.level ?? null) as Level | null, permissions: perms.map((r) => r.permission) };
}

/**
 * The condition "owned by the user, or granted to them (at one of `levels`; any level when
 * null)" on the owner and id columns of listed rows of a resource type.
 */
export function ownedOrGranted(d1: D1Database, type: string, userId: string, cols: { ownerId: SQLiteColumn | SQL; id: SQLiteColumn | SQL }, levels: Level[] | null): SQL {
  const granted = db(d1)
    .select({ id: resourceGrants.resourceId })
    .from(resourceGrants)
    .where(and(eq(resourceGrants.resourceType, type), eq(resourceGrants.userId, userId), levels ? inArray(resourceGrants.level, levels) : undefined));
  // (a column or an expression: the casts only pick an overload)
  return or(eq(cols.ownerId as SQL, userId), inArray(cols.id as SQL, granted))!;
}

/** Removes every grant on a resource: for the batch that deletes the resource. */
export const deleteResourceGrants = (d1: D1Database, type: string, resourceId: string): Statement =>
  db(d1).delete(resourceGrants).where(and(eq(resourceGrants.resourceType, type), eq(resourceGrants.resourceId, resourceId)));

// ---------------------------------------------------------------------------------------------
// Roles

const roleColumns = (d1: D1Database) => ({
  ...getTableColumns(roles),
  permissions: sql<string | null>`(SELECT json_group_array(permission) FROM ${db(d1)
    .select({ permission: rolePermissions.permission })
    .from(rolePermissions)
    .where(eq(rolePermissions.roleId, roles.id))
    .orderBy(rolePermissions.permission)})`,
  userCount: db(d1).$count(userRoles, eq(userRoles.roleId, roles.id)),
});
export type RoleWithCounts = RoleRow & { permissions: string | null; userCount: number };

export async function findRole(d1: D1Database, id: string): Promise<RoleWithCounts | null> {
  const [row] = await db(d1).select(roleColumns(d1)).from(roles).where(eq(roles.id, id));
  return row ?? null;
}

export async function listRoles(d1: D1Database, limit: number, offset: number): Promise<{ rows: RoleWithCounts[]; total: number }> {
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select(roleColumns(d1)).from(roles).orderBy(desc(roles.isBuiltin), roles.createdAt, roles.name).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(roles),
  ]);
  return { rows, total };
}

const permissionInserts = (d1: D1Database, roleId: string, permissions: string[]): Statement[] =>
  permissions.map((permission) => db(d1).insert(rolePermissions).values({ roleId, permission }));

export const insertRole = (d1: D1Database, role: Pick<RoleRow, 'id' | 'name' | 'description'>, permissions: string[]): Statement[] => [
  db(d1).insert(roles).values(role),
  ...permissionInserts(d1, role.id, permissions),
];

/** Renames or redescribes a role and, with `permissions`, replaces its permissions. */
export const updateRole = (d1: D1Database, id: string, set: Pick<RoleRow, 'name' | 'description'>, permissions?: string[]): Statement[] => [
  db(d1)
    .update(roles)
    .set({ ...set, updatedAt: now() })
    .where(eq(roles.id, id)),
  ...(permissions ? [db(d1).delete(rolePermissions).where(eq(rolePermissions.roleId, id)), ...permissionInserts(d1, id, permissions)] : []),
];

/** A role with its permissions and assignments. */
export const deleteRole = (d1: D1Database, id: string): Statement[] => [
  db(d1).delete(userRoles).where(eq(userRoles.roleId, id)),
  db(d1).delete(rolePermissions).where(eq(rolePermissions.roleId, id)),
  db(d1).delete(roles).where(eq(roles.id, id)),
];

// ---------------------------------------------------------------------------------------------
// Users' roles

/** A user's explicit role assignments, oldest first. */
export async function assignedRoles(d1: D1Database, userId: string) {
  return db(d1)
    .select({ roleId: roles.id, name: roles.name, isBuiltin: roles.isBuiltin, assignedAt: userRoles.createdAt })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(eq(userRoles.userId, userId))
    .orderBy(userRoles.createdAt, roles.name);
}

/** Records the account's default role as an explicit assignment unless the user has one already. */
export const assignDefaultRoleIfNone = (d1: D1Database, userId: string, defaultRoleId: string, by: string): Statement =>
  // INSERT … SELECT on a condition: the select lists every column of user_roles, in order.
  db(d1)
    .insert(userRoles)
    .select(sql`SELECT ${userId}, ${defaultRoleId}, ${by}, ${now()} WHERE NOT EXISTS (SELECT 1 FROM ${userRoles} WHERE user_id = ${userId})`);

export const assignRole = (d1: D1Database, userId: string, roleId: string, by: string): Statement =>
  db(d1).insert(userRoles).values({ userId, roleId, assignedBy: by }).onConflictDoNothing();

export const unassignRole = (d1: D1Database, userId: string, roleId: string) =>
  db(d1).delete(userRoles).where(and(eq(userRoles.userId, userId), eq(userRoles.roleId, roleId)));

export async function hasAssignedRoles(d1: D1Database, userId: string): Promise<boolean> {
  const [row] = await db(d1).select({ x: sql`1` }).from(userRoles).where(eq(userRoles.userId, userId)).limit(1);
  return row !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Resource grants

/** A grant with its grantee's email (null when the user is gone). */
const grantColumns = (d1: D1Database) => ({ ...getTableColumns(resourceGrants), userEmail: userEmailOf(resourceGrants.userId) });
export type GrantWithEmail = GrantRow & { userEmail: string | null };

export async function listResourceGrants(d1: D1Database, type: string, resourceId: string, limit: number, offset: number): Promise<{ rows: GrantWithEmail[]; total: number }> {
  const where = and(eq(resourceGrants.resourceType, type), eq(resourceGrants.resourceId, resourceId));
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select(grantColumns(d1)).from(resourceGrants).where(where).orderBy(resourceGrants.createdAt, resourceGrants.id).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(resourceGrants).where(where),
  ]);
  return { rows, total };
}

export async function listUserGrants(d1: D1Database, userId: string, type: string | undefined, limit: number, offset: number): Promise<{ rows: GrantWithEmail[]; total: number }> {
  const where = and(eq(resourceGrants.userId, userId), type ? eq(resourceGrants.resourceType, type) : undefined);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select(grantColumns(d1)).from(resourceGrants).where(where).orderBy(desc(resourceGrants.createdAt), resourceGrants.id).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(resourceGrants).where(where),
  ]);
  return { rows, total };
}

/** Grants a user a level on a resource, or changes the level of their grant; returns the row. */
export const upsertGrant = (d1: D1Database, grant: Pick<GrantRow, 'id' | 'resourceType' | 'resourceId' | 'userId' | 'level' | 'grantedBy'>) =>
  db(d1)
    .insert(resourceGrants)
    .values(grant)
    .onConflictDoUpdate({
      target: [resourceGrants.resourceType, resourceGrants.resourceId, resourceGrants.userId],
      set: { level: sql`excluded.level`, grantedBy: sql`excluded.granted_by`, updatedAt: now() },
    })
    .returning();

export async function findGrant(d1: D1Database, id: string): Promise<GrantRow | null> {
  const [row] = await db(d1).select().from(resourceGrants).where(eq(resourceGrants.id, id));
  return row ?? null;
}

export async function deleteGrant(d1: D1Database, id: string): Promise<void> {
  await db(d1).delete(resourceGrants).where(eq(resourceGrants.id, id));
}
