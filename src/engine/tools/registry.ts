/**
 * The builtin tool registry. Every tool an agent, a workflow or `/tools/{id}/use` runs is
 * registered here; `/health` reports its size.
 */
export interface BuiltinTool {
  name: string;
  category: string;
  description: string;
  description_zh: string;
  parameters: Record<string, unknown>;
}

export const builtinTools: readonly BuiltinTool[] = [];
