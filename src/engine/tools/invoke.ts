import { ApiError, notFound } from '../../lib/errors';
import { findBuiltinTool } from './registry';
import type { ToolContext, ToolOutcome } from './types';

/**
 * Runs a tool by name (builtin) — the one entry point for agents, workflows and the tools API.
 */
export async function invokeTool(ctx: ToolContext, toolId: string, args: Record<string, unknown>): Promise<ToolOutcome> {
  const tool = findBuiltinTool(toolId);
  if (!tool) throw notFound(`Tool ${toolId}`);
  const started = Date.now();
  try {
    const output = await tool.execute(args, ctx);
    return { output, duration_ms: Date.now() - started };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(502, 'TOOL_ERROR', `Tool ${toolId} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
