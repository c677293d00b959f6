import { z } from 'zod';
import { compare, ConditionSchema, type Operator } from '../conditions';
import { NodeError } from '../types';
import { lookup, refPath } from '../variables';
import type { NodeType } from '../node';
import { out } from './helpers';

/** The longest list the node works on (it holds the list in memory, like every node's output). */
export const LIST_OPERATOR_MAX_ITEMS = 10_000;

/** A path inside an item (`score`, `meta.lang`); empty: the item itself. */
const field = z.string().max(200).default('');

/** A condition of the `condition` node, with a field of each item instead of a variable. */
const ItemConditionSchema = ConditionSchema.omit({ variable: true }).extend({ field });

const ListOperatorConfig = z.object({
  /** A reference to a list (`{{search.items}}`), a literal list, or a JSON array in a string. */
  items: z.unknown(),
  /** Keeps the items whose conditions hold (the condition node's operators). */
  filter: z
    .object({
      logical_operator: z.enum(['and', 'or']).default('and'),
      conditions: z.array(ItemConditionSchema).min(1).max(20),
    })
    .optional(),
  /** Keeps the first item of each distinct value of `field` (empty: of each distinct item). */
  dedupe: z.object({ field }).optional(),
  /** Numbers as numbers, other values as text; items without the field go last either way. */
  sort: z.object({ field, order: z.enum(['asc', 'desc']).default('asc') }).optional(),
  offset: z.int().min(0).max(LIST_OPERATOR_MAX_ITEMS).default(0),
  limit: z.int().min(0).max(LIST_OPERATOR_MAX_ITEMS).optional(),
});
type ListOperatorConfig = z.infer<typeof ListOperatorConfig>;

const valueAt = (item: unknown, path: string): unknown => (path.trim() ? lookup(item as Record<string, unknown>, refPath(path)) : item);

function asList(items: unknown): unknown[] {
  let list = items;
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch {
      throw new NodeError('INVALID_INPUT', 'list_operator.items is a string that is not a JSON array', false);
    }
  }
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new NodeError('INVALID_INPUT', 'list_operator.items is not a list', false);
  if (list.length > LIST_OPERATOR_MAX_ITEMS) throw new NodeError('INVALID_INPUT', `list_operator.items has ${list.length} items; at most ${LIST_OPERATOR_MAX_ITEMS}`, false);
  return list;
}

const key = (v: unknown) => JSON.stringify(v ?? null);

function order(a: unknown, b: unknown): number {
  const missing = (v: unknown) => v === null || v === undefined;
  if (missing(a) || missing(b)) return missing(a) ? (missing(b) ? 0 : 1) : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'string' ? a : key(a);
  const y = typeof b === 'string' ? b : key(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export const listOperator: NodeType<ListOperatorConfig> = {
  type: 'list_operator',
  description: 'Filters (condition operators), dedupes, sorts by a field and slices a list, in that order → {result, count, total, first, last}.',
  config: ListOperatorConfig,
  ports: out,
  outputs: () => ['result', 'count', 'total', 'first', 'last'],
  async run(_ctx, c, r) {
    let list = asList(r.items);
    const filter = r.filter as ListOperatorConfig['filter'];
    if (filter) {
      const holds = (item: unknown, cond: { field: string; operator: Operator; value?: unknown }) => compare(valueAt(item, cond.field), cond.operator, cond.value);
      list = list.filter((item) => (filter.logical_operator === 'or' ? filter.conditions.some((k) => holds(item, k)) : filter.conditions.every((k) => holds(item, k))));
    }
    if (c.dedupe) {
      const seen = new Set<string>();
      list = list.filter((item) => {
        const k = key(valueAt(item, c.dedupe!.field));
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }
    if (c.sort) {
      const { field: path, order: direction } = c.sort;
      const sign = direction === 'desc' ? -1 : 1;
      // Missing values stay last in both directions; Array.prototype.sort is stable.
      list = [...list].sort((a, b) => {
        const x = valueAt(a, path);
        const y = valueAt(b, path);
        const absent = (x === null || x === undefined) !== (y === null || y === undefined);
        return absent ? order(x, y) : sign * order(x, y);
      });
    }
    const total = list.length;
    const result = list.slice(c.offset, c.limit === undefined ? undefined : c.offset + c.limit);
    return { output: { result, count: result.length, total, first: result[0] ?? null, last: result.length ? result[result.length - 1] : null } };
  },
};
