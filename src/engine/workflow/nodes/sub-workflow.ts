import { applyInputDefaults } from '../inputs';
import { z } from 'zod';
import { NodeError } from '../types';
import type { NodeType } from '../node';
import { out } from './helpers';

const SubWorkflowConfig = z.object({
  workflow_id: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()).default({}),
});
export const MAX_DEPTH = 5;
export const subWorkflow: NodeType<z.infer<typeof SubWorkflowConfig>> = {
  type: 'sub_workflow',
  description: 'Runs another workflow (one the run’s principal may execute) with inputs; its outputs become this node’s output.',
  config: SubWorkflowConfig,
  ports: out,
  outputs: () => null,
  async run(ctx, c, r) {
    if (ctx.depth >= MAX_DEPTH) throw new NodeError('MAX_DEPTH', `Sub-workflows nest at most ${MAX_DEPTH} deep`, false);
    const wf = await ctx.services.loadWorkflow(c.workflow_id);
    if (!wf) throw new NodeError('NOT_FOUND', `Workflow ${c.workflow_id} not found`, false);
    const inputs = applyInputDefaults(wf.inputs_schema, (r.inputs as Record<string, unknown>) ?? {});
    const started = Date.now();
    const sub = await ctx.runGraph(wf.graph, inputs, { isolated: true, workflowId: wf.id });
    ctx.recordCall({
      kind: 'workflow',
      name: wf.id,
      status: sub.status === 'succeeded' ? 'succeeded' : 'failed',
      started_at: new Date(started).toISOString(),
      duration_ms: Date.now() - started,
      usage: sub.usage,
      children: sub.calls,
      error: sub.error?.message,
    });
    if (sub.status !== 'succeeded') throw new NodeError(sub.error?.code ?? 'SUB_WORKFLOW_FAILED', `Sub-workflow failed: ${sub.error?.message ?? sub.status}`, false);
    return { output: sub.outputs };
  },
};
