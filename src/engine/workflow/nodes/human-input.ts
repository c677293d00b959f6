import { z } from 'zod';
import { DEFAULT_PORT, FIELD_TYPES, NodeError, type FormField } from '../types';
import { stringify } from '../variables';
import type { NodeType } from '../node';

/**
 * A value as a field of `type` takes it, or undefined when it is not one. Coerces only where
 * nothing is lost: "42" to 42, "true" to true, 42 to "42"; never 1.5 to a boolean or "abc" to a number.
 */
export function coerceFieldValue(f: Pick<FormField, 'type' | 'options'>, value: unknown): unknown {
  switch (f.type) {
    case 'text':
      if (typeof value === 'string') return value;
      if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
      return undefined;
    case 'number': {
      if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
      if (typeof value !== 'string' || !value.trim()) return undefined;
      const n = Number(value.trim());
      return Number.isFinite(n) && String(n) === value.trim() ? n : undefined;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      return value === 'true' ? true : value === 'false' ? false : undefined;
    case 'select': {
      const s = typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
      return s !== undefined && (f.options ?? []).includes(s) ? s : undefined;
    }
    case 'json':
      return value;
  }
}

const describeType = (f: Pick<FormField, 'type' | 'options'>) =>
  f.type === 'select' ? `one of ${(f.options ?? []).map((o) => JSON.stringify(o)).join(', ')}` : f.type === 'json' ? 'a JSON value' : `a ${f.type}`;

/**
 * Checks submitted values against a form: unknown fields are refused, required ones must be
 * there, each value must be (or losslessly become) its field's type; defaults fill the rest.
 * Problems name the field (`<name>: <what is wrong>`).
 */
export function checkFormValues(fields: FormField[], values: Record<string, unknown>): { values: Record<string, unknown>; problems: string[] } {
  const problems: string[] = [];
  const known = new Set(fields.map((f) => f.name));
  for (const name of Object.keys(values)) if (!known.has(name)) problems.push(`${name}: the form has no such field`);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const given = values[f.name];
    if (given === undefined || given === null) {
      if (f.default !== undefined) out[f.name] = f.default;
      else if (f.required) problems.push(`${f.name}: required`);
      else out[f.name] = null;
      continue;
    }
    const v = coerceFieldValue(f, given);
    if (v === undefined) problems.push(`${f.name}: must be ${describeType(f)}`);
    else out[f.name] = v;
  }
  return { values: out, problems };
}

/** The values a form takes when nobody fills it in: its defaults (null where there is none). */
export const formDefaults = (fields: FormField[]) => Object.fromEntries(fields.map((f) => [f.name, f.default ?? null]));

const Field = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a letter or _, then letters, digits or _ (at most 64)'),
    type: z.enum(FIELD_TYPES),
    label: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
    required: z.boolean().default(false),
    options: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
    default: z.unknown().optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.type === 'select' && !f.options) ctx.addIssue({ code: 'custom', path: ['options'], message: 'a select field needs options' });
    if (f.type !== 'select' && f.options) ctx.addIssue({ code: 'custom', path: ['options'], message: 'only a select field has options' });
    if (f.default !== undefined && f.default !== null && coerceFieldValue(f, f.default) === undefined) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `must be ${describeType(f)}` });
    }
  })
  .transform((f): FormField => (f.default === undefined || f.default === null ? { ...f, default: undefined } : { ...f, default: coerceFieldValue(f, f.default) }));

const InputConfig = z
  .object({
    title: z.string().min(1).max(200).default('Input required'),
    description: z.string().max(10_000).default(''),
    fields: z.array(Field).min(1).max(50),
    /** Who fills the form in (default: whoever started the run, who may always answer). */
    assignee_id: z.uuid().optional(),
    timeout_seconds: z.int().min(1).max(30 * 86400).optional(),
    /** Without values by the timeout: fail the node, continue with the defaults, or take the `timeout` port (with the defaults). */
    on_timeout: z.enum(['fail', 'default', 'branch']).default('fail'),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.fields.forEach((f, i) => {
      if (seen.has(f.name)) ctx.addIssue({ code: 'custom', path: ['fields', i, 'name'], message: `field ${f.name} is defined twice` });
      seen.add(f.name);
    });
    if (c.on_timeout !== 'fail' && !c.timeout_seconds) ctx.addIssue({ code: 'custom', path: ['on_timeout'], message: `${c.on_timeout} needs timeout_seconds` });
    if (c.on_timeout === 'default') {
      for (const f of c.fields) {
        if (f.required && f.default === undefined) ctx.addIssue({ code: 'custom', path: ['on_timeout'], message: `default needs a default for the required field ${f.name}` });
      }
    }
  });

export const TIMEOUT_PORT = 'timeout';

export const humanInput: NodeType<z.infer<typeof InputConfig>> = {
  type: 'human_input',
  description: 'Pauses the run until a person fills in a form; its values become the output (ports out / timeout).',
  config: InputConfig,
  rawKeys: ['fields'],
  ports: (c) => (c.timeout_seconds && c.on_timeout === 'branch' ? [DEFAULT_PORT, TIMEOUT_PORT] : [DEFAULT_PORT]),
  outputs: (c) => c.fields.map((f) => f.name),
  async run(ctx, c, r) {
    if (ctx.nested || !ctx.services.createApproval) {
      throw new NodeError('UNSUPPORTED', 'human_input can only run at the top level of a workflow run', false);
    }
    const until = c.timeout_seconds ? ctx.startedMs + c.timeout_seconds * 1000 : undefined;
    const { approval_id } = await ctx.services.createApproval({
      node_id: ctx.node.id,
      kind: 'input',
      title: stringify(r.title),
      description: stringify(r.description),
      approver_id: c.assignee_id ?? null,
      fields: c.fields,
      timeout_at: until ? new Date(until).toISOString() : null,
    });
    return { wait: { kind: 'approval', approval_id, until } };
  },
  resume(_ctx, c, res) {
    if (res.decision === 'timeout') {
      if (c.on_timeout === 'fail') throw new NodeError('INPUT_TIMEOUT', `Nobody submitted the form within ${c.timeout_seconds} s`, false);
      return { output: formDefaults(c.fields), branch: c.on_timeout === 'branch' ? TIMEOUT_PORT : DEFAULT_PORT };
    }
    return { output: { ...(res.values as Record<string, unknown>) }, branch: DEFAULT_PORT };
  },
};
