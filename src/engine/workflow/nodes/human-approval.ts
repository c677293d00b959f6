import { z } from 'zod';
import { NodeError } from '../types';
import { stringify } from '../variables';
import type { NodeType } from '../node';

const ApprovalConfig = z.object({
  title: z.string().min(1).max(200).default('Approval required'),
  description: z.string().max(10_000).default(''),
  /** The user who decides (the owner may always decide). */
  approver_id: z.uuid().optional(),
  /** Without a decision by then the run takes the `timeout` port. */
  timeout_seconds: z.int().min(1).max(30 * 86400).optional(),
});
export const humanApproval: NodeType<z.infer<typeof ApprovalConfig>> = {
  type: 'human_approval',
  description: 'Pauses the run until a person approves or rejects (ports approved / rejected / timeout).',
  config: ApprovalConfig,
  ports: (c) => (c.timeout_seconds ? ['approved', 'rejected', 'timeout'] : ['approved', 'rejected']),
  outputs: () => ['decision', 'comment', 'decided_by'],
  async run(ctx, c, r) {
    if (ctx.nested || !ctx.services.createApproval) {
      throw new NodeError('UNSUPPORTED', 'human_approval can only run at the top level of a workflow run', false);
    }
    const until = c.timeout_seconds ? ctx.startedMs + c.timeout_seconds * 1000 : undefined;
    const { approval_id } = await ctx.services.createApproval({
      node_id: ctx.node.id,
      title: stringify(r.title),
      description: stringify(r.description),
      approver_id: c.approver_id ?? null,
      timeout_at: until ? new Date(until).toISOString() : null,
    });
    return { wait: { kind: 'approval', approval_id, until } };
  },
  resume(_ctx, _c, res) {
    const decision = String(res.decision);
    return { output: { decision, comment: res.comment ?? null, decided_by: res.decided_by ?? null }, branch: decision };
  },
};
