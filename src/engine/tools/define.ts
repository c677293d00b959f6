import type { Env } from '../../env';
import { ApiError, validationError } from '../../lib/errors';
import type { BuiltinTool } from './types';

/** Declares a builtin tool; the generic only types `execute`'s arguments for its author. */
export function tool<A = Record<string, unknown>>(def: Omit<BuiltinTool, 'execute'> & { execute(args: A, ctx: Parameters<BuiltinTool['execute']>[1]): Promise<unknown> | unknown }): BuiltinTool {
  return { ...def, execute: async (args, ctx) => def.execute(args as A, ctx) };
}

/** Bad input a schema cannot express (an unparsable expression, an unknown unit): 422. */
export const toolInputError = (message: string) => validationError(message);

/** A tool whose outside service has no endpoint or key configured: 503 TOOL_NOT_CONFIGURED. */
export function requireConfig<K extends keyof Env>(env: Env, tool: string, ...names: K[]): { [P in K]: string } {
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0) {
    throw new ApiError(503, 'TOOL_NOT_CONFIGURED', `Tool ${tool} needs ${missing.join(', ')} to be configured`);
  }
  return Object.fromEntries(names.map((n) => [n, String(env[n])])) as { [P in K]: string };
}

// Small schema builders, so the 50 tool declarations stay readable.
export const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });
export const num = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'number', description, ...extra });
export const int = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'integer', description, ...extra });
export const bool = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'boolean', description, ...extra });
export const obj = (properties: Record<string, unknown>, required: string[] = [], extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
});
