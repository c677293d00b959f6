import { z } from 'zod';

/** Structural schema of a graph: what any saved draft must look like (semantics: validate.ts). */
export const NODE_ID = /^[A-Za-z_][\w-]{0,63}$/;

export const RetrySchema = z.object({
  max_retries: z.int().min(0).max(10),
  backoff_ms: z.int().min(0).max(60_000).optional(),
  backoff: z.enum(['fixed', 'exponential']).optional(),
});

export const NodeSchema = z.object({
  id: z.string().min(1).max(64),
  type: z.string().min(1).max(64),
  label: z.string().max(200).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  timeout_ms: z.int().min(1).max(15 * 60_000).optional(),
  retry: RetrySchema.optional(),
  error_strategy: z.enum(['fail', 'default_value', 'error_branch']).optional(),
  default_output: z.record(z.string(), z.unknown()).optional(),
  position: z.object({ x: z.number(), y: z.number() }).optional(),
});

export const EdgeSchema = z.object({
  id: z.string().max(128).optional(),
  source: z.string().min(1).max(64),
  target: z.string().min(1).max(64),
  source_handle: z.string().min(1).max(64).optional(),
});

export const GraphSchema = z.object({
  nodes: z.array(NodeSchema).max(500),
  edges: z.array(EdgeSchema).max(2000),
});

export const InputDefSchema = z.object({
  name: z.string().regex(/^[A-Za-z_]\w{0,63}$/, 'must be an identifier'),
  /** Default `string`. */
  type: z.enum(['string', 'number', 'boolean', 'object', 'array']).optional(),
  required: z.boolean().optional(),
  default: z.unknown().optional(),
  description: z.string().max(500).optional(),
});
