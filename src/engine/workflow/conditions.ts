import { z } from 'zod';
import { lookup, refPath, resolveDeep, type Scope } from './variables';

/** Typed comparisons of the condition node and the loop's `until`. */
export const OPERATORS = [
  'eq', 'ne', 'gt', 'gte', 'lt', 'lte',
  'contains', 'not_contains', 'starts_with', 'ends_with', 'matches',
  'in', 'not_in', 'is_empty', 'is_not_empty', 'is_true', 'is_false',
] as const;
export type Operator = (typeof OPERATORS)[number];

export const ConditionSchema = z.object({
  /** A variable path (`llm.text`) or reference (`{{llm.text}}`). */
  variable: z.string().min(1),
  operator: z.enum(OPERATORS),
  /** Literal or a template with references. */
  value: z.unknown().optional(),
});

export const ConditionGroupSchema = z.object({
  logical_operator: z.enum(['and', 'or']).default('and'),
  conditions: z.array(ConditionSchema).min(1),
});

export type Condition = z.infer<typeof ConditionSchema>;
export type ConditionGroup = z.infer<typeof ConditionGroupSchema>;

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

function truthy(v: unknown): boolean {
  if (typeof v === 'string') return ['true', 'yes', '1'].includes(v.trim().toLowerCase());
  return Boolean(v);
}

function equal(a: unknown, b: unknown): boolean {
  // Numbers compare as numbers whenever one side is a number ("3" equals 3.0).
  if (typeof a === 'number' || typeof b === 'number') {
    const x = toNumber(a);
    const y = toNumber(b);
    return x !== null && y !== null && x === y;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') return truthy(a) === truthy(b);
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  return String(a ?? '') === String(b ?? '');
}

function listOf(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return v.split(',').map((s) => s.trim());
  return [v];
}

export function compare(left: unknown, operator: Operator, right: unknown): boolean {
  switch (operator) {
    case 'eq':
      return equal(left, right);
    case 'ne':
      return !equal(left, right);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const x = toNumber(left);
      const y = toNumber(right);
      if (x === null || y === null) return false;
      return operator === 'gt' ? x > y : operator === 'gte' ? x >= y : operator === 'lt' ? x < y : x <= y;
    }
    case 'contains':
    case 'not_contains': {
      const has = Array.isArray(left)
        ? left.some((item) => equal(item, right))
        : String(left ?? '').includes(String(right ?? ''));
      return operator === 'contains' ? has : !has;
    }
    case 'starts_with':
      return String(left ?? '').startsWith(String(right ?? ''));
    case 'ends_with':
      return String(left ?? '').endsWith(String(right ?? ''));
    case 'matches':
      try {
        return new RegExp(String(right ?? '')).test(String(left ?? ''));
      } catch {
        return false;
      }
    case 'in':
      return listOf(right).some((item) => equal(left, item));
    case 'not_in':
      return !listOf(right).some((item) => equal(left, item));
    case 'is_empty':
      return isEmpty(left);
    case 'is_not_empty':
      return !isEmpty(left);
    case 'is_true':
      return truthy(left);
    case 'is_false':
      return !truthy(left);
  }
}

export function evaluateCondition(c: Condition, scope: Scope): boolean {
  return compare(lookup(scope, refPath(c.variable)), c.operator, resolveDeep(c.value, scope));
}

export function evaluateGroup(group: ConditionGroup, scope: Scope): boolean {
  return group.logical_operator === 'or'
    ? group.conditions.some((c) => evaluateCondition(c, scope))
    : group.conditions.every((c) => evaluateCondition(c, scope));
}
