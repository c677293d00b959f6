import type { Env } from '../../env';

/** Who runs a tool and on whose behalf; passed to every tool implementation. */
export interface ToolContext {
  env: Env;
  userId: string;
  agentId?: string | null;
  sessionId?: string | null;
  /** Where the call came from: api, agent, workflow, ... (recorded in tool_usage). */
  caller?: string;
  signal?: AbortSignal;
  /**
   * Delegation depth of the turn or run the call comes from (0 at the top): a tool that starts an
   * agent turn or a workflow run (run_agent, run_workflow) starts it one deeper and refuses at the
   * limit (MAX_DELEGATION_DEPTH of src/runs/agent-turn.ts), so an agent calling itself ends.
   */
  depth?: number;
}

/** A builtin tool: metadata for the registry and the model, and its implementation. */
export interface BuiltinTool {
  name: string;
  category: string;
  description: string;
  description_zh: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  /** Tools backed by an outside service: whether its endpoint/key are configured. */
  isConfigured?(env: Env): boolean;
  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<unknown>;
}

export interface ToolOutcome {
  output: unknown;
  duration_ms: number;
  /** Console output of code tools. */
  logs?: string[];
}
