import { z } from 'zod';
import type { NodeType } from '../node';
import { identifier, out } from './helpers';

const AssignerConfig = z.object({
  assignments: z.array(z.object({ name: identifier, value: z.unknown() })).min(1).max(50),
});
export const variableAssigner: NodeType<z.infer<typeof AssignerConfig>> = {
  type: 'variable_assigner',
  description: 'Sets named variables ({{vars.name}} downstream, and {{<node>.name}}).',
  config: AssignerConfig,
  ports: out,
  outputs: (c) => c.assignments.map((a) => a.name),
  async run(_ctx, _c, r) {
    const assignments = r.assignments as Array<{ name: string; value: unknown }>;
    return { output: Object.fromEntries(assignments.map((a) => [a.name, a.value ?? null])) };
  },
};
