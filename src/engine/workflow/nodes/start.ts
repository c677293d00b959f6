import { z } from 'zod';
import type { NodeType } from '../node';
import { out } from './helpers';

export const start: NodeType<Record<string, never>> = {
  type: 'start',
  description: 'Entry point; its output is the run inputs ({{inputs.x}} or {{start.x}}).',
  config: z.object({}).passthrough() as unknown as z.ZodType<Record<string, never>>,
  ports: out,
  outputs: () => null,
  async run(ctx) {
    return { output: { ...((ctx.scope.inputs as Record<string, unknown>) ?? {}) } };
  },
};
