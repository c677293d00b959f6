import { z } from 'zod';
import { NodeError } from '../types';
import { renderText } from '../variables';
import type { NodeType } from '../node';
import { ModelSchema, callModel, extractJsonObject, identifier, out } from './helpers';

const ParamSchema = z.object({
  name: identifier,
  type: z.enum(['string', 'number', 'boolean', 'array', 'object']).default('string'),
  description: z.string().max(1000).optional(),
  required: z.boolean().default(false),
});
const ExtractorConfig = z.object({
  query: z.string().min(1),
  parameters: z.array(ParamSchema).min(1).max(50),
  instruction: z.string().max(10_000).optional(),
  model: ModelSchema,
});
export const parameterExtractor: NodeType<z.infer<typeof ExtractorConfig>> = {
  type: 'parameter_extractor',
  description: 'A model turns text into JSON by a parameter schema; missing required parameters fail the node.',
  config: ExtractorConfig,
  ports: out,
  outputs: (c) => c.parameters.map((p) => p.name),
  async run(ctx, c) {
    const schema = Object.fromEntries(c.parameters.map((p) => [p.name, { type: p.type, description: p.description ?? '', required: p.required }]));
    const system =
      `Extract these parameters from the user's text and answer with one JSON object only: ${JSON.stringify(schema)}` +
      (c.instruction ? `\n${renderText(c.instruction, ctx.scope)}` : '');
    const r = await callModel(ctx, c.model, [
      { role: 'system', content: system },
      { role: 'user', content: renderText(c.query, ctx.scope) },
    ], 'json');
    const values = extractParameters(r.content, c.parameters);
    const missing = c.parameters.filter((p) => p.required && (values[p.name] === null || values[p.name] === undefined));
    if (missing.length) throw new NodeError('EXTRACTION_FAILED', `Missing required parameters: ${missing.map((p) => p.name).join(', ')}`);
    return { output: values };
  },
};

/**
 * Parameters from a model answer: its JSON object when it has one, otherwise `name: value` /
 * `name = value` pairs in the text; each value coerced to its declared type (null if it won't).
 */
export function extractParameters(text: string, params: Array<z.infer<typeof ParamSchema>>): Record<string, unknown> {
  const json = extractJsonObject(text);
  const out: Record<string, unknown> = {};
  for (const p of params) {
    let raw: unknown = json?.[p.name];
    if (raw === undefined) {
      const m = text.match(new RegExp(`(?:^|[\\s,;{(])"?${p.name}"?\\s*[:=]\\s*(?:"([^"]*)"|([^,;\\n}]+))`, 'i'));
      raw = m ? (m[1] ?? m[2]).trim() : undefined;
    }
    out[p.name] = coerce(raw, p.type);
  }
  return out;
}

function coerce(v: unknown, type: string): unknown {
  if (v === undefined || v === null || v === '') return null;
  switch (type) {
    case 'number': {
      const n = typeof v === 'number' ? v : Number(String(v).replace(/[^\d.eE+-]/g, ''));
      return Number.isFinite(n) ? n : null;
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      return ['true', 'yes', '1', 'y'].includes(String(v).toLowerCase()) ? true : ['false', 'no', '0', 'n'].includes(String(v).toLowerCase()) ? false : null;
    case 'array':
      if (Array.isArray(v)) return v;
      try {
        const parsed = JSON.parse(String(v));
        return Array.isArray(parsed) ? parsed : null;
      } catch {
        return String(v).split(/\s*[|/]\s*|\s+and\s+/).filter(Boolean);
      }
    case 'object':
      if (typeof v === 'object') return v;
      try {
        const parsed = JSON.parse(String(v));
        return parsed && typeof parsed === 'object' ? parsed : null;
      } catch {
        return null;
      }
    default:
      return typeof v === 'string' ? v : JSON.stringify(v);
  }
}
