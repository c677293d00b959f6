/**
 * Variable references: `{{inputs.x}}`, `{{<node_id>.<field>}}`, `{{sys.user_id}}`,
 * `{{sys.execution_id}}`, `{{vars.name}}` (variable assigner). Paths may index arrays
 * (`{{search.items.0.title}}` or `{{search.items[0].title}}`).
 */

export type Scope = Record<string, unknown>;

const REF = /\{\{\s*([A-Za-z_][\w-]*(?:(?:\.[\w-]+)|(?:\[\d+\]))*)\s*\}\}/g;
const WHOLE_REF = /^\s*\{\{\s*([A-Za-z_][\w-]*(?:(?:\.[\w-]+)|(?:\[\d+\]))*)\s*\}\}\s*$/;

export const RESERVED_ROOTS = new Set(['inputs', 'sys', 'vars']);
export const SYS_FIELDS = new Set(['user_id', 'execution_id', 'workflow_id', 'timestamp']);

export function splitPath(path: string): string[] {
  return path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
}

/** Every reference path in a value (strings inside objects and arrays included). */
export function findRefs(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') {
    for (const m of value.matchAll(REF)) into.push(m[1]);
  } else if (Array.isArray(value)) {
    for (const v of value) findRefs(v, into);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) findRefs(v, into);
  }
  return into;
}

export function lookup(scope: Scope, path: string): unknown {
  let cur: unknown = scope;
  for (const key of splitPath(path)) {
    if (cur === null || cur === undefined) return undefined;
    if (typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * A string with references: a string that is exactly one reference keeps the referenced
 * value's type (so `items: "{{search.results}}"` is an array); otherwise each reference is
 * replaced by its text.
 */
export function resolveTemplate(text: string, scope: Scope): unknown {
  const whole = text.match(WHOLE_REF);
  if (whole) {
    const v = lookup(scope, whole[1]);
    return v === undefined ? null : v;
  }
  if (!text.includes('{{')) return text;
  return text.replace(REF, (_, path: string) => stringify(lookup(scope, path)));
}

/** Always text: for prompts, templates, URLs. */
export function renderText(text: string, scope: Scope): string {
  if (!text.includes('{{')) return text;
  return text.replace(REF, (_, path: string) => stringify(lookup(scope, path)));
}

/** Resolves every string inside a value. */
export function resolveDeep(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') return resolveTemplate(value, scope);
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, scope));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveDeep(v, scope);
    return out;
  }
  return value;
}

/** `x.y` or `{{x.y}}` → `x.y` (conditions accept both spellings). */
export function refPath(text: string): string {
  const m = text.match(WHOLE_REF);
  return m ? m[1] : text.trim();
}
