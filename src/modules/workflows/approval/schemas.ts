import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

const STATUSES = ['pending', 'approved', 'rejected', 'submitted', 'timed_out', 'cancelled'] as const;

export const FormFieldSchema = z
  .object({
    name: z.string(),
    type: z.enum(['text', 'number', 'select', 'boolean', 'json']),
    label: z.string().optional(),
    description: z.string().optional(),
    required: z.boolean(),
    options: z.array(z.string()).optional(),
    default: z.unknown().optional(),
  })
  .openapi('FormField');

export const ApprovalSchema = z
  .object({
    id: z.uuid(),
    execution_id: z.string(),
    node_id: z.string(),
    /** approval: approve or reject (decide); input: a form to fill in (submit). */
    kind: z.enum(['approval', 'input']),
    owner_id: z.string(),
    approver_id: z.string().nullable(),
    title: z.string(),
    description: z.string(),
    status: z.enum(STATUSES),
    comment: z.string().nullable(),
    /** An input's form (null for an approval). */
    fields: z.array(FormFieldSchema).nullable(),
    /** An input's submitted values, validated and with defaults applied (null until submitted). */
    values: z.record(z.string(), z.unknown()).nullable(),
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
  status: z.enum(STATUSES).default('pending'),
  kind: z.enum(['approval', 'input']).optional(),
});

export const DecideBody = z
  .object({
    decision: z.enum(['approve', 'reject']),
    comment: z.string().max(5000).optional(),
    /** Wait up to this long for the resumed run to come to rest. */
    wait_ms: z.int().min(0).max(60_000).default(5_000),
  })
  .openapi('DecideApprovalRequest');

export const SubmitBody = z
  .object({
    /** One value per field of the form (by name); missing optional ones take their default. */
    values: z.record(z.string(), z.unknown()),
    /** Wait up to this long for the resumed run to come to rest. */
    wait_ms: z.int().min(0).max(60_000).default(5_000),
  })
  .strict()
  .openapi('SubmitInputRequest');

export const ApprovalIdParam = z.object({
  approval_id: z.string().min(1).openapi({ param: { name: 'approval_id', in: 'path' } }),
});
