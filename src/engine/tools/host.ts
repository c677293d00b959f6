/**
 * What tool invocation needs from the database, supplied by the module that owns the tables
 * (custom_tools, tool_usage, tool_memory: modules/agents/tools registers src/runs/tool-host.ts at
 * import time, as modules register their tools). The engine itself reads and writes no table.
 */

/** A saved custom tool as invokeTool runs it (parameters and config are JSON text as stored). */
export interface CustomToolDefinition {
  id: string;
  name: string;
  type: 'http' | 'code';
  parameters: string;
  config: string;
}

/** One tool invocation, as recorded for the monitoring modules. */
export interface ToolUsageRecord {
  toolId: string;
  toolName: string;
  toolType: string;
  userId: string;
  agentId: string | null;
  sessionId: string | null;
  caller: string;
  durationMs: number;
  ok: boolean;
  /** `CODE: message` of a failed call. */
  error: string | null;
}

/** The key-value memory of the memory_store / memory_recall tools (values are JSON text). */
export interface ToolMemory {
  /** Stores or overwrites; false when the key is new and the scope already holds `maxKeys`. */
  put(d1: D1Database, userId: string, scope: string, key: string, value: string, maxKeys: number): Promise<boolean>;
  find(d1: D1Database, userId: string, scope: string, which: { key?: string; prefix?: string }, limit: number): Promise<Array<{ key: string; value: string; updatedAt: string }>>;
  delete(d1: D1Database, userId: string, scope: string, keys: string[]): Promise<void>;
}

export interface ToolHost {
  /** The user's custom tool by id, or null (also for ids that are no UUID). */
  loadCustomTool(d1: D1Database, userId: string, id: string): Promise<CustomToolDefinition | null>;
  recordUsage(d1: D1Database, usage: ToolUsageRecord): Promise<void>;
  memory: ToolMemory;
}

let host: ToolHost | undefined;

/** Set once at import time by the tools module. */
export function setToolHost(h: ToolHost): void {
  host = h;
}

export function toolHost(): ToolHost {
  if (!host) throw new Error('No tool host registered (setToolHost)');
  return host;
}
