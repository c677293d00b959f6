import { z } from 'zod';
import { lookup, refPath } from '../variables';
import type { NodeType } from '../node';
import { out } from './helpers';

const AggregatorConfig = z.object({
  variables: z.array(z.string().min(1)).min(1).max(50),
  mode: z.enum(['first', 'list', 'object']).default('first'),
});
export const variableAggregator: NodeType<z.infer<typeof AggregatorConfig>> = {
  type: 'variable_aggregator',
  description: 'Joins branches: the first non-empty of several variables, all of them as a list, or as an object.',
  config: AggregatorConfig,
  ports: out,
  outputs: () => ['output'],
  rawKeys: ['variables'],
  async run(ctx, c) {
    const entries = c.variables.map((v) => [refPath(v), lookup(ctx.scope, refPath(v))] as const);
    const present = entries.filter(([, v]) => v !== undefined && v !== null);
    if (c.mode === 'list') return { output: { output: present.map(([, v]) => v) } };
    if (c.mode === 'object') return { output: { output: Object.fromEntries(entries.map(([k, v]) => [k, v ?? null])) } };
    return { output: { output: present[0]?.[1] ?? null } };
  },
};
