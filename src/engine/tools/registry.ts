import type { BuiltinTool } from './types';

/**
 * The builtin tool registry. Every tool an agent, a workflow or `/tools/{id}/use` runs is
 * registered here; `/health` reports its size.
 */
export const builtinTools: readonly BuiltinTool[] = [];

const byName = new Map(builtinTools.map((t) => [t.name, t]));

export function findBuiltinTool(name: string): BuiltinTool | undefined {
  return byName.get(name);
}
