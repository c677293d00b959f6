import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './core';

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

/** One row per state-changing API request (written after the response, via waitUntil). */
export const auditLogs = sqliteTable(
  'audit_logs',
  {
    id: text('id').primaryKey(),
    userId: text('user_id'),
    action: text('action').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    statusCode: integer('status_code').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id').notNull(),
    durationMs: integer('duration_ms').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_logs_created_idx').on(t.createdAt),
    index('audit_logs_user_idx').on(t.userId, t.createdAt),
    index('audit_logs_resource_idx').on(t.resourceType, t.resourceId, t.createdAt),
    index('audit_logs_action_idx').on(t.action, t.createdAt),
  ],
);

/**
 * The unified log: request lines (category `request`; successful reads may be sampled, each kept
 * row then carries `weight` = 1/rate so counts and rates stay unbiased), unhandled errors
 * (`error`), background jobs (`job`: cron runs, queue batches) and application messages (`app`).
 */
export const systemLogs = sqliteTable(
  'system_logs',
  {
    id: text('id').primaryKey(),
    category: text('category', { enum: ['request', 'error', 'job', 'app'] }).notNull(),
    level: text('level', { enum: ['debug', 'info', 'warn', 'error'] }).notNull(),
    source: text('source').notNull(),
    message: text('message').notNull(),
    requestId: text('request_id'),
    userId: text('user_id'),
    method: text('method'),
    path: text('path'),
    statusCode: integer('status_code'),
    durationMs: integer('duration_ms'),
    weight: real('weight').notNull().default(1),
    data: text('data'),
    createdAt: createdAt(),
  },
  (t) => [
    index('system_logs_created_idx').on(t.createdAt),
    index('system_logs_category_idx').on(t.category, t.createdAt),
    index('system_logs_level_idx').on(t.level, t.createdAt),
    index('system_logs_user_idx').on(t.userId, t.createdAt),
  ],
);

/** A watched metric over a window against a threshold; `state` is ok or firing. */
export const alertRules = sqliteTable(
  'alert_rules',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    metric: text('metric').notNull(),
    comparator: text('comparator').notNull(),
    threshold: real('threshold').notNull(),
    windowMinutes: integer('window_minutes').notNull(),
    agentId: text('agent_id'),
    enabled: integer('enabled').notNull().default(1),
    webhookUrl: text('webhook_url'),
    webhookFormat: text('webhook_format').notNull().default('json'),
    state: text('state', { enum: ['ok', 'firing'] }).notNull().default('ok'),
    lastValue: real('last_value'),
    lastEvaluatedAt: text('last_evaluated_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('alert_rules_owner_idx').on(t.ownerId, t.createdAt), index('alert_rules_enabled_idx').on(t.enabled)],
);

/** The alert log: one row per firing, resolved when the metric recovers. */
export const alertEvents = sqliteTable(
  'alert_events',
  {
    id: text('id').primaryKey(),
    ruleId: text('rule_id').notNull(),
    ownerId: text('owner_id').notNull(),
    status: text('status', { enum: ['firing', 'resolved'] }).notNull(),
    metric: text('metric').notNull(),
    value: real('value'),
    threshold: real('threshold').notNull(),
    message: text('message').notNull(),
    firedAt: text('fired_at').notNull(),
    resolvedAt: text('resolved_at'),
    resolvedValue: real('resolved_value'),
    acknowledgedAt: text('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    webhookStatus: text('webhook_status'),
    createdAt: createdAt(),
  },
  (t) => [
    index('alert_events_owner_idx').on(t.ownerId, t.firedAt),
    index('alert_events_rule_idx').on(t.ruleId, t.firedAt),
    // At most one open (firing) alert per rule.
    uniqueIndex('alert_events_open_unique').on(t.ruleId).where(sql`status = 'firing'`),
  ],
);

/**
 * Feedback on an assistant message or an execution. One row per user and target (recording
 * again replaces it). `owner_id` is the owner of what was rated (the agent or run owner), who
 * sees it in the analysis; `snapshot` keeps the answer and its context for negative samples.
 */
export const feedback = sqliteTable(
  'feedback',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    ownerId: text('owner_id').notNull(),
    targetType: text('target_type', { enum: ['message', 'execution'] }).notNull(),
    targetId: text('target_id').notNull(),
    agentId: text('agent_id'),
    sessionId: text('session_id'),
    thumb: text('thumb', { enum: ['up', 'down'] }),
    rating: integer('rating'),
    sentiment: text('sentiment', { enum: ['positive', 'neutral', 'negative'] }).notNull(),
    comment: text('comment').notNull().default(''),
    tags: text('tags').notNull().default('[]'),
    snapshot: text('snapshot').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('feedback_user_target_unique').on(t.userId, t.targetType, t.targetId),
    index('feedback_agent_idx').on(t.agentId, t.createdAt),
    index('feedback_owner_idx').on(t.ownerId, t.sentiment, t.createdAt),
  ],
);
