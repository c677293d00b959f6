import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';
import { TimeRangeQuery } from '../../../lib/time-range';

export const AuditLogSchema = z
  .object({
    id: z.string(),
    user_id: z.string().nullable(),
    user_email: z.string().nullable(),
    action: z.string().meta({ example: 'agents.deploy' }),
    method: z.string(),
    path: z.string(),
    resource_type: z.string().nullable().meta({ example: 'agents' }),
    resource_id: z.string().nullable(),
    status_code: z.int(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    request_id: z.string(),
    duration_ms: z.int(),
    created_at: z.string(),
  })
  .openapi('AuditLog');

const filters = {
  user_id: z.string().min(1).optional(),
  action: z.string().trim().min(1).max(200).optional().meta({ description: 'An action (agents.update) or a prefix of whole parts (agents)' }),
  resource_type: z.string().trim().min(1).max(100).optional(),
  resource_id: z.string().min(1).max(200).optional(),
  outcome: z.enum(['success', 'failure']).optional().meta({ description: 'success: status < 400; failure: ≥ 400' }),
};

export const AuditListQuery = PaginationQuery.extend(TimeRangeQuery.shape).extend(filters);
export const AuditStatsQuery = TimeRangeQuery.extend(filters);

const Count = z.object({ key: z.string().nullable(), count: z.int() });

export const AuditStatsSchema = z
  .object({
    scope: z.enum(['all', 'own']),
    from: z.string(),
    to: z.string(),
    total: z.int(),
    failures: z.int(),
    failure_rate: z.number(),
    by_status_class: z.record(z.string(), z.int()),
    by_action: z.array(Count),
    by_user: z.array(Count.extend({ email: z.string().nullable() })),
    by_resource_type: z.array(Count),
    by_day: z.array(z.object({ date: z.string(), count: z.int(), failures: z.int() })),
  })
  .openapi('AuditStats');
