import { ApiError, notFound, validationError } from '../../lib/errors';
import { decryptHttpConfig, runCodeTool, runHttpTool, type CodeToolConfig, type StoredHttpConfig } from './custom';
import { applyDefaults, validateJson } from './json-schema';
import { findBuiltinTool, findDynamicTool } from './registry';
import { isPluginRef, resolvePluginTool } from '../plugins/tools';
import { toolHost } from './host';
import type { ToolContext, ToolOutcome } from './types';

/** What invokeTool resolved a name or id to. */
interface ResolvedTool {
  id: string;
  name: string;
  type: string;
  parameters: Record<string, unknown>;
  run(args: Record<string, unknown>): Promise<{ output: unknown; logs?: string[] }>;
}

/** Runs a custom tool definition (saved or not) with already-validated arguments. */
export async function runCustomDefinition(
  ctx: ToolContext,
  type: 'http' | 'code',
  config: StoredHttpConfig | CodeToolConfig,
  args: Record<string, unknown>,
): Promise<{ output: unknown; logs?: string[] }> {
  if (type === 'http') return { output: await runHttpTool(ctx, await decryptHttpConfig(ctx.env, config as StoredHttpConfig), args) };
  return runCodeTool(ctx, config as CodeToolConfig, args);
}

async function resolve(ctx: ToolContext, toolId: string): Promise<ResolvedTool | null> {
  const builtin = findBuiltinTool(toolId);
  if (builtin) {
    return { id: builtin.name, name: builtin.name, type: 'builtin', parameters: builtin.parameters, run: async (args) => ({ output: await builtin.execute(args, ctx) }) };
  }
  const dynamic = await findDynamicTool(ctx, toolId);
  if (dynamic) {
    return { id: dynamic.name, name: dynamic.name, type: dynamic.type, parameters: dynamic.parameters, run: async (args) => ({ output: await dynamic.execute(args, ctx) }) };
  }
  // Tools of the caller's installed, enabled plugins: `plugin:<plugin id>:<operation>`.
  if (isPluginRef(toolId)) return resolvePluginTool(ctx, toolId);
  const row = await toolHost().loadCustomTool(ctx.env.DB, ctx.userId, toolId);
  if (!row) return null;
  const config = JSON.parse(row.config) as StoredHttpConfig | CodeToolConfig;
  return { id: row.id, name: row.name, type: row.type, parameters: JSON.parse(row.parameters), run: (args) => runCustomDefinition(ctx, row.type, config, args) };
}

/** Checks arguments against a tool's schema (422 naming the field) and fills in defaults. */
export function validateArguments(parameters: Record<string, unknown>, args: unknown): Record<string, unknown> {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) throw validationError('arguments: must be an object');
  const errors = validateJson(parameters, args);
  if (errors.length > 0) throw validationError(errors.join('; '));
  return applyDefaults(parameters, args as Record<string, unknown>);
}

/** Failures that are not ApiErrors are the tool's own bugs or its service's: 502 TOOL_ERROR. */
export function toApiError(e: unknown, name: string): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(502, 'TOOL_ERROR', `Tool ${name} failed: ${e instanceof Error ? e.message : String(e)}`);
}

async function recordUsage(ctx: ToolContext, tool: ResolvedTool, durationMs: number, error: ApiError | null) {
  try {
    await toolHost().recordUsage(ctx.env.DB, {
      toolId: tool.id,
      toolName: tool.name,
      toolType: tool.type,
      userId: ctx.userId,
      agentId: ctx.agentId ?? null,
      sessionId: ctx.sessionId ?? null,
      caller: ctx.caller ?? 'api',
      durationMs,
      ok: !error,
      error: error ? `${error.code}: ${error.message}`.slice(0, 1000) : null,
    });
  } catch (e) {
    // Monitoring must never fail the call it monitors.
    console.error(JSON.stringify({ type: 'tool_usage_write_failed', tool: tool.name, error: String(e) }));
  }
}

/**
 * Runs a tool — builtin by name, the caller's custom tool by UUID, the caller's dynamic tool (MCP)
 * by its prefixed name, a plugin tool by its ref — the one entry point for agents, workflows and the tools API. Arguments are validated against the tool's JSON Schema;
 * every call that reaches a tool is recorded in `tool_usage`, failed ones included.
 */
export async function invokeTool(ctx: ToolContext, toolId: string, args: Record<string, unknown>): Promise<ToolOutcome> {
  const tool = await resolve(ctx, toolId);
  if (!tool) throw notFound(`Tool ${toolId}`);
  const started = Date.now();
  try {
    const valid = validateArguments(tool.parameters, args ?? {});
    const { output, logs } = await tool.run(valid);
    const duration_ms = Date.now() - started;
    await recordUsage(ctx, tool, duration_ms, null);
    return logs ? { output, duration_ms, logs } : { output, duration_ms };
  } catch (e) {
    const error = toApiError(e, tool.name);
    await recordUsage(ctx, tool, Date.now() - started, error);
    throw error;
  }
}
