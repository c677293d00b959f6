// Tables of the permissions module (its store alone reads and writes them).
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * Roles: the builtin admin, user and viewer (seeded by migration, fixed ids, undeletable) and
 * roles admins define. A role is a set of permissions from the catalogue (src/lib/authorize.ts).
 */
export const roles = sqliteTable(
  'roles',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    isBuiltin: integer('is_builtin').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('roles_name_unique').on(sql`lower(${t.name})`)],
);

export const rolePermissions = sqliteTable(
  'role_permissions',
  {
    roleId: text('role_id').notNull(),
    permission: text('permission').notNull(),
  },
  (t) => [primaryKey({ columns: [t.roleId, t.permission] })],
);

/** Explicit role assignments; a user with none has the builtin role named by users.role. */
export const userRoles = sqliteTable(
  'user_roles',
  {
    userId: text('user_id').notNull(),
    roleId: text('role_id').notNull(),
    assignedBy: text('assigned_by'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.roleId] }), index('user_roles_role_idx').on(t.roleId)],
);

/** A resource shared with a user at a level: read < execute < write < admin. */
export const resourceGrants = sqliteTable(
  'resource_grants',
  {
    id: text('id').primaryKey(),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    userId: text('user_id').notNull(),
    level: text('level', { enum: ['read', 'execute', 'write', 'admin'] }).notNull(),
    grantedBy: text('granted_by').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('resource_grants_unique').on(t.resourceType, t.resourceId, t.userId),
    index('resource_grants_user_idx').on(t.userId, t.resourceType),
  ],
);
