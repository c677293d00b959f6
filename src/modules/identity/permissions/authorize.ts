import type { SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Statement } from '../../../db/client';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { IsolateCache } from '../../../lib/isolate-cache';
import { CREDENTIAL_CACHE_TTL_MS } from '../auth/guard';
import { forbidden, notFound } from '../../../lib/errors';
import { findResourceRef as findAgentRef } from '../../agents/agents/store';
import { findResourceRef as findGoalRef } from '../../goals/goals/store';
import { findResourceRef as findKnowledgeBaseRef } from '../../knowledge/knowledge-bases/store';
import { findResourceRef as findWorkflowRef } from '../../workflows/workflows/store';
import * as store from './store';

/**
 * The one authorization decision of the platform. Every module that serves a shareable resource
 * (agents, workflows, knowledge bases, goals and what hangs off them) asks `authorize()` before
 * it reads or changes one. The decision, in order:
 *
 *   1. the resource does not exist                      → 404
 *   2. the user owns it                                 → allowed (via `owner`)
 *   3. the user is an admin                             → allowed (via `admin`)
 *   4. the user's level = max(grant level on this resource, level their roles give on the type)
 *      - no level at all (may not even read it)         → 404: it does not exist for them
 *      - level ≥ the action's                           → allowed (via `grant` or `role`)
 *      - otherwise                                      → 403
 *
 * Levels are ordered read < execute < write < admin; each includes the ones below. By
 * convention: reading (get, list, export, duplicate) needs `read`; running it (chat, execute)
 * `execute`; changing it `write`; deleting it and sharing it `admin`.
 */

export const RESOURCE_TYPES = ['agent', 'workflow', 'knowledge_base', 'goal'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const ACCESS_LEVELS = ['read', 'execute', 'write', 'admin'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];
export type Action = AccessLevel;

const rank = (level: AccessLevel | null | undefined) => (level ? ACCESS_LEVELS.indexOf(level) + 1 : 0);
const maxLevel = (a: AccessLevel | null, b: AccessLevel | null): AccessLevel | null => (rank(a) >= rank(b) ? a : b);

/** Each resource type's owning store (its id and owner) and its name in messages. */
const RESOURCES: Record<ResourceType, { find: (d1: D1Database, id: string) => Promise<ResourceRef | null>; label: string }> = {
  agent: { find: findAgentRef, label: 'Agent' },
  workflow: { find: findWorkflowRef, label: 'Workflow' },
  knowledge_base: { find: findKnowledgeBaseRef, label: 'Knowledge base' },
  goal: { find: findGoalRef, label: 'Goal' },
};

export const resourceLabel = (type: ResourceType) => RESOURCES[type].label;

// ---------------------------------------------------------------------------------------------
// The permission catalogue and the builtin roles.

interface PermissionInfo {
  name: string;
  description: string;
}

const resourcePermissions: PermissionInfo[] = RESOURCE_TYPES.flatMap((type) => {
  const label = RESOURCES[type].label.toLowerCase() + 's';
  return [
    { name: `${type}:create`, description: `Create ${label}` },
    { name: `${type}:read`, description: `Read every user's ${label}` },
    { name: `${type}:execute`, description: `Read and run every user's ${label}` },
    { name: `${type}:write`, description: `Read, run and change every user's ${label}` },
    { name: `${type}:admin`, description: `Full control of every user's ${label}, deleting and sharing included` },
  ];
});

/** Every permission a role can hold. */
export const PERMISSION_CATALOGUE: readonly PermissionInfo[] = [
  ...resourcePermissions,
  { name: 'audit_logs:read', description: "Read every user's audit log entries" },
  { name: 'system_logs:read', description: 'Read the unified system log and its statistics' },
  { name: 'monitoring:read', description: 'See platform-wide monitoring (otherwise only your own figures)' },
  { name: 'feedback:read', description: 'Read all feedback and negative samples' },
  { name: 'model_configs:system', description: 'Create and change system-wide model configs' },
  { name: 'permissions:manage', description: "Manage roles, role assignments and other users' grants" },
];
export const PERMISSION_NAMES: ReadonlySet<string> = new Set(PERMISSION_CATALOGUE.map((p) => p.name));

/** Fixed ids of the builtin roles (seeded by migrations/0013_governance_seed.sql). */
export const BUILTIN_ROLE_IDS = {
  admin: '00000000-0000-4000-8000-000000000001',
  user: '00000000-0000-4000-8000-000000000002',
  viewer: '00000000-0000-4000-8000-000000000003',
} as const;

export const BUILTIN_ROLE_PERMISSIONS: Record<keyof typeof BUILTIN_ROLE_IDS, string[]> = {
  admin: PERMISSION_CATALOGUE.map((p) => p.name),
  user: RESOURCE_TYPES.map((t) => `${t}:create`),
  viewer: RESOURCE_TYPES.map((t) => `${t}:read`),
};

/** The builtin role an account has without explicit assignments (`users.role`). */
export const defaultRoleId = (user: { role: string }) => (user.role === 'admin' ? BUILTIN_ROLE_IDS.admin : BUILTIN_ROLE_IDS.user);

// User id → their roles' permissions (for the account role they were read with), trusted as long
// as the credential cache trusts the user: a role assigned, revoked or changed through this
// isolate takes effect at once (forgetPermissions), one changed elsewhere within the bound.
const rolePermissionCache = new IsolateCache<string, { accountRole: AuthUser['role']; permissions: ReadonlySet<string> }>(1000, CREDENTIAL_CACHE_TTL_MS);

/** A user's (or, without an id, every user's) role permissions are read again on next use. */
export function forgetPermissions(userId?: string): void {
  if (userId) rolePermissionCache.delete(userId);
  else rolePermissionCache.clear();
}

/**
 * The permissions of a user's roles: their explicit role assignments, or — with none — the
 * builtin role their account has. One statement, then served from the isolate's cache for
 * CREDENTIAL_CACHE_TTL_MS (see forgetPermissions).
 */
export async function userPermissions(env: Env, user: AuthUser): Promise<Set<string>> {
  if (isAdmin(user)) return new Set(PERMISSION_NAMES);
  const cached = rolePermissionCache.get(user.id);
  if (cached && cached.accountRole === user.role) return new Set(cached.permissions);
  const permissions = new Set(await store.permissionNames(env.DB, user.id, defaultRoleId(user)));
  rolePermissionCache.set(user.id, { accountRole: user.role, permissions });
  return new Set(permissions);
}

export async function hasPermission(env: Env, user: AuthUser, permission: string): Promise<boolean> {
  return isAdmin(user) || (await userPermissions(env, user)).has(permission);
}

/** 403 unless the user's roles hold `permission` (admins hold every permission). */
export async function requirePermission(env: Env, user: AuthUser, permission: string): Promise<void> {
  if (!(await hasPermission(env, user, permission))) throw forbidden(`This needs the ${permission} permission`);
}

/** The highest level a set of role permissions gives on every resource of a type. */
function roleLevel(permissions: Set<string>, type: ResourceType): AccessLevel | null {
  for (let i = ACCESS_LEVELS.length - 1; i >= 0; i--) if (permissions.has(`${type}:${ACCESS_LEVELS[i]}`)) return ACCESS_LEVELS[i];
  return null;
}

// ---------------------------------------------------------------------------------------------
// The decision.

export interface Decision {
  allowed: boolean;
  /** owner | admin | grant | role when allowed; not_found | insufficient_level when not. */
  reason: 'owner' | 'admin' | 'grant' | 'role' | 'not_found' | 'insufficient_level';
  /** The user's level on the resource (`admin` for owners and admins), null when none. */
  level: AccessLevel | null;
  owner_id: string | null;
}

export interface ResourceRef {
  id: string;
  owner_id: string;
}

/** The resource's id and owner (from its owning store), or null when it does not exist. */
export async function loadResourceRef(env: Env, type: ResourceType, id: string): Promise<ResourceRef | null> {
  return RESOURCES[type].find(env.DB, id);
}

/** Decides without throwing, for an already loaded resource (null: it does not exist). */
export async function decide(env: Env, user: AuthUser, type: ResourceType, resource: ResourceRef | null, action: Action): Promise<Decision> {
  if (!resource) return { allowed: false, reason: 'not_found', level: null, owner_id: null };
  if (resource.owner_id === user.id) return { allowed: true, reason: 'owner', level: 'admin', owner_id: resource.owner_id };
  if (isAdmin(user)) return { allowed: true, reason: 'admin', level: 'admin', owner_id: resource.owner_id };
  // One round trip for both sources of a level.
  const { granted, permissions } = await store.levelSources(env.DB, type, resource.id, user.id, defaultRoleId(user));
  const byRole = roleLevel(new Set(permissions), type);
  const level = maxLevel(granted, byRole);
  if (!level) return { allowed: false, reason: 'not_found', level: null, owner_id: resource.owner_id };
  const via = rank(granted) >= rank(byRole) ? 'grant' : 'role';
  if (rank(level) >= rank(action)) return { allowed: true, reason: via, level, owner_id: resource.owner_id };
  return { allowed: false, reason: 'insufficient_level', level, owner_id: resource.owner_id };
}

/** Throws what a refused decision means: 404 when the user may not even read it, else 403. */
export function enforce(decision: Decision, type: ResourceType, action: Action): void {
  if (decision.allowed) return;
  if (decision.reason === 'not_found') throw notFound(resourceLabel(type));
  throw forbidden(`Your access to this ${resourceLabel(type).toLowerCase()} is ${decision.level}; this needs ${action}`);
}

/**
 * THE authorization function: may `user` do `action` on resource `type`/`id`? Returns the
 * decision when allowed (with the owner), throws 404/403 otherwise (see the top of this file).
 * Pass the loaded row instead of the id (`authorizeResource`) when the module already has it.
 */
export async function authorize(env: Env, user: AuthUser, type: ResourceType, id: string, action: Action): Promise<Decision & { owner_id: string }> {
  return authorizeResource(env, user, type, await loadResourceRef(env, type, id), action);
}

/** `authorize()` for a row the module has already read (owners and admins then cost no query). */
export async function authorizeResource(env: Env, user: AuthUser, type: ResourceType, resource: ResourceRef | null, action: Action): Promise<Decision & { owner_id: string }> {
  const decision = await decide(env, user, type, resource, action);
  enforce(decision, type, action);
  return decision as Decision & { owner_id: string };
}

/** Admins, and users whose roles give `level` on every resource of the type, see all of them. */
async function seesEverything(env: Env, user: AuthUser, type: ResourceType, level: AccessLevel): Promise<boolean> {
  return isAdmin(user) || rank(roleLevel(await userPermissions(env, user), type)) >= rank(level);
}

/** The grant levels that give at least `level` (null: any grant, as every level includes read). */
const levelsFrom = (level: AccessLevel): AccessLevel[] | null => (level === 'read' ? null : ACCESS_LEVELS.slice(ACCESS_LEVELS.indexOf(level)));

/**
 * The WHERE condition of a list of `type` resources: the condition on the listed rows' owner and resource-id
 * columns (e.g. `{ ownerId: agents.ownerId, id: agents.id }`, or `{ ownerId: goals.ownerId,
 * id: tasks.goalId }`) that keeps what the user may read (or do `level` with); undefined when
 * nothing is filtered. Stores take it as a parameter (they never import this file).
 */
export async function readableWhere(
  env: Env,
  user: AuthUser,
  type: ResourceType,
  cols: { ownerId: SQLiteColumn | SQL; id: SQLiteColumn | SQL },
  level: AccessLevel = 'read',
): Promise<SQL | undefined> {
  if (await seesEverything(env, user, type, level)) return undefined;
  return store.ownedOrGranted(env.DB, type, user.id, cols, levelsFrom(level));
}

/** Removes every grant on a resource: add it to the batch (runBatch) that deletes the resource. */
export function grantsCleanup(d1: D1Database, type: ResourceType, id: string): Statement {
  return store.deleteResourceGrants(d1, type, id);
}
