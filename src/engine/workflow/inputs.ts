import type { InputDef } from './types';

/** Run inputs against a workflow's declared inputs: defaults and checks. */
export function applyInputDefaults(schema: InputDef[], inputs: Record<string, unknown>): Record<string, unknown> {
  const out = { ...inputs };
  for (const def of schema) if (out[def.name] === undefined && def.default !== undefined) out[def.name] = def.default;
  return out;
}

/** Checks run inputs against a workflow's input definitions; returns problems. */
export function checkInputs(schema: InputDef[], inputs: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const def of schema) {
    const v = inputs[def.name];
    if (v === undefined || v === null) {
      if (def.required) problems.push(`inputs.${def.name}: required`);
      continue;
    }
    const t = def.type ?? 'string';
    const actual = Array.isArray(v) ? 'array' : typeof v;
    if (actual !== t) problems.push(`inputs.${def.name}: expected ${t}, got ${actual}`);
  }
  return problems;
}
