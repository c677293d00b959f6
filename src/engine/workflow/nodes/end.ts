import { z } from 'zod';
import type { NodeType } from '../node';

const EndConfig = z.object({ outputs: z.record(z.string(), z.unknown()).default({}) });
export const end: NodeType<z.infer<typeof EndConfig>> = {
  type: 'end',
  description: 'Ends the run; `outputs` (name → value or reference) become the run outputs; without outputs, the output of the nodes before it.',
  config: EndConfig,
  ports: () => [],
  outputs: (c) => (Object.keys(c.outputs).length ? Object.keys(c.outputs) : null),
  terminal: true,
  async run(ctx, c, resolved) {
    if (!Object.keys(c.outputs).length) return { output: ctx.upstream() };
    return { output: (resolved.outputs as Record<string, unknown>) ?? {} };
  },
};
