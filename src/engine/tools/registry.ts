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
import type { BuiltinTool } from './types';

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
