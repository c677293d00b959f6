import { z } from '@hono/zod-openapi';
import { ACCESS_LEVELS, PERMISSION_NAMES, RESOURCE_TYPES } from './authorize';
import { PaginationQuery } from '../../../lib/pagination';

export const PermissionSchema = z.object({ name: z.string(), description: z.string() }).openapi('Permission');
export const CatalogueSchema = z.object({ permissions: z.array(PermissionSchema), resource_types: z.array(z.string()), levels: z.array(z.string()) }).openapi('PermissionCatalogue');

export const RoleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    is_builtin: z.boolean(),
    permissions: z.array(z.string()),
    user_count: z.int().meta({ description: 'Users with an explicit assignment of this role' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Role');

const PermissionList = z
  .array(z.string().refine((p) => PERMISSION_NAMES.has(p), { message: 'not a permission of the catalogue (GET /permissions/catalogue)' }))
  .max(200)
  .transform((ps) => [...new Set(ps)]);

export const CreateRoleBody = z
  .object({
    name: z.string().trim().min(1).max(64).regex(/^[\w .-]+$/, 'letters, digits, spaces, _ . - only'),
    description: z.string().trim().max(500).default(''),
    permissions: PermissionList.default([]),
  })
  .openapi('CreateRole');

export const UpdateRoleBody = z
  .object({
    name: z.string().trim().min(1).max(64).regex(/^[\w .-]+$/, 'letters, digits, spaces, _ . - only').optional(),
    description: z.string().trim().max(500).optional(),
    permissions: PermissionList.optional(),
  })
  .openapi('UpdateRole');

export const RolePermissionsBody = z.object({ permissions: PermissionList }).openapi('RolePermissions');
export const RolePermissionsSchema = z.object({ role_id: z.string(), permissions: z.array(z.string()) }).openapi('RolePermissionList');

export const UserRoleSchema = z
  .object({
    role_id: z.string(),
    name: z.string(),
    is_builtin: z.boolean(),
    implicit: z.boolean().meta({ description: 'true: the default role of the account (no explicit assignments)' }),
    assigned_at: z.string().nullable(),
  })
  .openapi('UserRole');
export const UserRolesSchema = z
  .object({ user_id: z.string(), roles: z.array(UserRoleSchema), permissions: z.array(z.string()) })
  .openapi('UserRoles');
export const AssignRoleBody = z.object({ role_id: z.string().min(1) }).openapi('AssignRole');

const ResourceType = z.enum(RESOURCE_TYPES);
const Level = z.enum(ACCESS_LEVELS);

export const GrantSchema = z
  .object({
    id: z.string(),
    resource_type: ResourceType,
    resource_id: z.string(),
    user_id: z.string(),
    user_email: z.string().nullable(),
    level: Level,
    granted_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('ResourceGrant');

export const CreateGrantBody = z
  .object({
    resource_type: ResourceType,
    resource_id: z.string().min(1),
    user_id: z.string().min(1),
    level: Level,
  })
  .openapi('CreateGrant');

export const ResourceParams = z.object({
  resource_type: ResourceType.openapi({ param: { name: 'resource_type', in: 'path' } }),
  resource_id: z.string().min(1).openapi({ param: { name: 'resource_id', in: 'path' } }),
});

export const UserGrantsQuery = PaginationQuery.extend({ resource_type: ResourceType.optional() });

export const CheckBody = z
  .object({
    user_id: z.string().min(1).optional().meta({ description: 'Whose access; default: the caller (others need permissions:manage)' }),
    resource_type: ResourceType,
    resource_id: z.string().min(1),
    action: Level,
  })
  .openapi('PermissionCheck');

export const CheckResultSchema = z
  .object({
    allowed: z.boolean(),
    reason: z.enum(['owner', 'admin', 'grant', 'role', 'not_found', 'insufficient_level']),
    level: Level.nullable(),
    user_id: z.string(),
    resource_type: ResourceType,
    resource_id: z.string(),
    action: Level,
  })
  .openapi('PermissionCheckResult');

export type Role = z.infer<typeof RoleSchema>;
export type Grant = z.infer<typeof GrantSchema>;
