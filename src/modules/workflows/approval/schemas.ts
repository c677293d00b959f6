import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

export const ApprovalSchema = z
  .object({
    id: z.uuid(),
    execution_id: z.string(),
    node_id: z.string(),
    owner_id: z.string(),
    approver_id: z.string().nullable(),
    title: z.string(),
    description: z.string(),
    status: z.enum(['pending', 'approved', 'rejected', 'timed_out', 'cancelled']),
    comment: z.string().nullable(),
    decided_by: z.string().nullable(),
    decided_at: z.string().nullable(),
    timeout_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Approval');

export const DecisionResultSchema = ApprovalSchema.extend({
  /** The run's status after the decision was applied. */
  execution_status: z.string(),
}).openapi('ApprovalDecision');

export const ApprovalListQuery = PaginationQuery.extend({
  status: z.enum(['pending', 'approved', 'rejected', 'timed_out', 'cancelled']).default('pending'),
});

export const DecideBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    comment: z.string().max(5000).optional(),
    /** Wait up to this long for the resumed run to come to rest. */
    wait_ms: z.int().min(0).max(60_000).default(5_000),
  })
  .openapi('DecideApprovalRequest');

export const ApprovalIdParam = z.object({
  approval_id: z.string().min(1).openapi({ param: { name: 'approval_id', in: 'path' } }),
});
