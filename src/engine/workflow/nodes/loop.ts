import { GraphSchema } from '../graph-schema';
import { z } from 'zod';
import { ConditionGroupSchema, evaluateGroup } from '../conditions';
import { type Graph, NodeError } from '../types';
import type { NodeType } from '../node';
import { out } from './helpers';

const LoopConfig = z.object({
  body: GraphSchema,
  /** Checked after each pass over `state.<name>` and `iteration` (1 after the first pass). */
  until: ConditionGroupSchema.optional(),
  max_iterations: z.int().min(1).max(1000).default(10),
  /** The state before the first pass; each pass's end outputs are merged into it. */
  initial: z.record(z.string(), z.unknown()).default({}),
});
export const loop: NodeType<z.infer<typeof LoopConfig>> = {
  type: 'loop',
  description: 'Repeats a body graph ({{inputs.iteration}} from 1, {{inputs.state}}) until a condition holds, at most max_iterations times → {state, iterations}.',
  config: LoopConfig,
  ports: out,
  outputs: () => ['state', 'iterations', 'stopped_by'],
  rawKeys: ['body', 'until'],
  bodies: (c) => [c.body as Graph],
  bodyInputs: ['iteration', 'state'],
  async run(ctx, c, r) {
    let state = { ...((r.initial as Record<string, unknown>) ?? {}) };
    for (let i = 1; i <= c.max_iterations; i++) {
      const sub = await ctx.runGraph(c.body as Graph, { iteration: i, state });
      if (sub.status !== 'succeeded') throw new NodeError(sub.error?.code ?? 'LOOP_FAILED', `iteration ${i}: ${sub.error?.message ?? sub.status}`);
      state = { ...state, ...sub.outputs };
      if (c.until && evaluateGroup(c.until, { ...ctx.scope, state, iteration: i })) {
        return { output: { state, iterations: i, stopped_by: 'condition' } };
      }
    }
    return { output: { state, iterations: c.max_iterations, stopped_by: 'max_iterations' } };
  },
};
