import { z } from 'zod';
import { invokeTool } from '../../tools/invoke';
import type { NodeType } from '../node';
import { out } from './helpers';

const ToolConfig = z.object({ tool: z.string().min(1).max(200), arguments: z.record(z.string(), z.unknown()).default({}) });
export const tool: NodeType<z.infer<typeof ToolConfig>> = {
  type: 'tool',
  description: 'Runs a registry tool with arguments (values may reference variables) → {result}.',
  config: ToolConfig,
  ports: out,
  outputs: () => ['result', 'duration_ms'],
  async run(ctx, c, r) {
    const started = Date.now();
    try {
      const outcome = await invokeTool(
        { env: ctx.env, userId: ctx.userId, caller: 'workflow', signal: ctx.signal, depth: ctx.delegationDepth },
        c.tool,
        (r.arguments as Record<string, unknown>) ?? {},
      );
      ctx.recordCall({ kind: 'tool', name: c.tool, status: 'succeeded', started_at: new Date(started).toISOString(), duration_ms: outcome.duration_ms });
      return { output: { result: outcome.output, duration_ms: outcome.duration_ms } };
    } catch (e) {
      ctx.recordCall({ kind: 'tool', name: c.tool, status: 'failed', started_at: new Date(started).toISOString(), duration_ms: Date.now() - started, error: String((e as Error)?.message ?? e) });
      throw e;
    }
  },
};
