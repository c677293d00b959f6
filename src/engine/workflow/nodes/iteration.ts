import { z } from 'zod';
import { GraphSchema } from '../graph-schema';
import { type Graph, NodeError } from '../types';
import type { NodeType } from '../node';
import { out } from './helpers';


const IterationConfig = z.object({
  /** A reference to a list (`{{search.items}}`) or a literal list. */
  items: z.unknown(),
  body: GraphSchema,
  concurrency: z.int().min(1).max(20).default(1),
  max_items: z.int().min(1).max(1000).default(100),
});
export const iteration: NodeType<z.infer<typeof IterationConfig>> = {
  type: 'iteration',
  description: 'Maps a body graph over a list ({{inputs.item}}, {{inputs.index}} inside) with a concurrency limit → {results}.',
  config: IterationConfig,
  ports: out,
  outputs: () => ['results', 'count'],
  rawKeys: ['body'],
  bodies: (c) => [c.body as Graph],
  bodyInputs: ['item', 'index', 'items'],
  async run(ctx, c, r) {
    let items: unknown = r.items;
    if (typeof items === 'string') {
      const text: string = items;
      try {
        items = JSON.parse(text);
      } catch {
        items = text.split('\n').filter((s) => s.trim());
      }
    }
    if (!Array.isArray(items)) throw new NodeError('INVALID_INPUT', 'iteration.items is not a list', false);
    const list: unknown[] = items;
    if (list.length > c.max_items) throw new NodeError('INVALID_INPUT', `iteration.items has ${list.length} items; max_items is ${c.max_items}`, false);
    const results: unknown[] = new Array(list.length);
    // A fork at some items of the same list: the other items keep their recorded results.
    const recorded = ctx.replay?.output.results;
    const same = Array.isArray(recorded) && recorded.length === list.length && JSON.stringify(ctx.replay!.list) === JSON.stringify(r.items);
    const replayed = same ? new Set(ctx.replay!.items) : null;
    if (replayed) ctx.log('info', `Replaying item${replayed.size === 1 ? '' : 's'} ${[...replayed].join(', ')}; reusing the other ${list.length - replayed.size} recorded results`);
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const index = next++;
        if (replayed && !replayed.has(index)) {
          results[index] = (recorded as unknown[])[index];
          continue;
        }
        const sub = await ctx.runGraph(c.body as Graph, { item: list[index], index, items: list });
        if (sub.status !== 'succeeded') throw new NodeError(sub.error?.code ?? 'ITERATION_FAILED', `item ${index}: ${sub.error?.message ?? sub.status}`);
        results[index] = sub.outputs;
      }
    };
    await Promise.all(Array.from({ length: Math.min(c.concurrency, list.length) }, worker));
    return { output: { results, count: list.length } };
  },
};
