import { aiTools } from './builtin/ai';
import { codeTools } from './builtin/code';
import { dataTools } from './builtin/data';
import { encodingTools } from './builtin/encoding';
import { integrationTools } from './builtin/integration';
import { mathTools } from './builtin/math';
import { platformTools } from './builtin/platform';
import { textTools } from './builtin/text';
import { timeTools } from './builtin/time';
import { webTools } from './builtin/web';
import type { BuiltinTool, ToolContext } from './types';

/**
 * The builtin tool registry. Every tool an agent, a workflow or `/tools/{id}/use` runs is
 * registered here; `/health` reports its size. Modules that own a platform tool (knowledge
 * bases, workflows, tasks, notifications, Feishu, agents) add theirs with `registerBuiltinTool`.
 */
const tools: BuiltinTool[] = [
  ...mathTools,
  ...timeTools,
  ...textTools,
  ...dataTools,
  ...encodingTools,
  ...webTools,
  ...aiTools,
  ...platformTools,
  ...integrationTools,
  ...codeTools,
];

export const builtinTools: readonly BuiltinTool[] = tools;

const byName = new Map(tools.map((t) => [t.name, t]));
if (byName.size !== tools.length) throw new Error('Duplicate builtin tool names');

export function findBuiltinTool(name: string): BuiltinTool | undefined {
  return byName.get(name);
}

/** Adds a module's tool at import time; a name can be registered once. */
export function registerBuiltinTool(tool: BuiltinTool): void {
  if (byName.has(tool.name)) throw new Error(`Builtin tool ${tool.name} is already registered`);
  tools.push(tool);
  byName.set(tool.name, tool);
}

/** Display order of categories. */
export const TOOL_CATEGORIES = ['math', 'time', 'text', 'data', 'encoding', 'web', 'ai', 'platform', 'integration', 'code'] as const;

/** A tool that exists per user rather than in code (e.g. a tool of an installed MCP plugin). */
export interface DynamicTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  /** Recorded as tool_usage.tool_type. */
  type: string;
  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<unknown>;
}

/**
 * Resolves a family of dynamic tools by name prefix (`mcp_`, registered by the plugins module). Modules register one at import
 * time, so invokeTool and agents' include_tools reach these tools without the engine knowing
 * the modules.
 */
export interface ToolProvider {
  prefix: string;
  resolve(ctx: Pick<ToolContext, 'env' | 'userId'>, name: string): Promise<DynamicTool | null>;
}

const providers: ToolProvider[] = [];

export function registerToolProvider(provider: ToolProvider): void {
  if (providers.some((p) => p.prefix === provider.prefix)) throw new Error(`Tool provider ${provider.prefix} is already registered`);
  providers.push(provider);
}

export function findToolProvider(name: string): ToolProvider | undefined {
  return providers.find((p) => name.startsWith(p.prefix));
}

/** A dynamic tool of this user by name, or null. */
export async function findDynamicTool(ctx: Pick<ToolContext, 'env' | 'userId'>, name: string): Promise<DynamicTool | null> {
  const provider = findToolProvider(name);
  return provider ? provider.resolve(ctx, name) : null;
}
