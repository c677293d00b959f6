import { z } from 'zod';
import { ConditionGroupSchema, evaluateGroup } from '../conditions';
import type { NodeType } from '../node';
import { portId } from './helpers';

const ConditionConfig = z.object({
  cases: z.array(ConditionGroupSchema.extend({ id: portId })).min(1).max(20),
});
export const condition: NodeType<z.infer<typeof ConditionConfig>> = {
  type: 'condition',
  description: 'If / elif / else: the first case whose conditions hold picks its port, else `else`.',
  config: ConditionConfig,
  ports: (c) => [...c.cases.map((k) => k.id), 'else'],
  outputs: () => ['matched'],
  rawKeys: ['cases'],
  async run(ctx, c) {
    const hit = c.cases.find((k) => evaluateGroup(k, ctx.scope));
    const matched = hit?.id ?? 'else';
    return { output: { matched }, branch: matched };
  },
};
