import { z } from 'zod';
import { NodeError } from '../types';
import { renderText } from '../variables';
import type { NodeType } from '../node';
import { out } from './helpers';

const AgentConfig = z.object({
  /** An agent the run's principal may execute (the owner's, or shared with them); default: the agent whose run this is. */
  agent_id: z.uuid().optional(),
  prompt: z.string().min(1).max(100_000).default('{{inputs.message}}'),
});
export const agent: NodeType<z.infer<typeof AgentConfig>> = {
  type: 'agent',
  description: "One turn of an agent (its model, system prompt and tools) on the prompt → {text, tool_calls, usage}.",
  config: AgentConfig,
  ports: out,
  outputs: () => ['text', 'tool_calls', 'usage', 'iterations', 'agent_id'],
  rawKeys: ['prompt'],
  async run(ctx, c) {
    if (!ctx.services.runAgent) throw new NodeError('UNSUPPORTED', 'Agents are not available here', false);
    const started = Date.now();
    const turn = await ctx.services.runAgent(c.agent_id ?? null, renderText(c.prompt, ctx.scope), ctx.signal);
    ctx.addUsage(turn.usage);
    ctx.recordCall({
      kind: 'llm',
      name: `agent ${turn.agent_id}`,
      status: 'succeeded',
      started_at: new Date(started).toISOString(),
      duration_ms: Date.now() - started,
      usage: turn.usage,
      children: turn.tool_calls.map((t) => ({
        kind: 'tool' as const,
        name: t.name,
        status: t.error ? ('failed' as const) : ('succeeded' as const),
        started_at: new Date(started).toISOString(),
        duration_ms: t.duration_ms,
        error: t.error,
      })),
    });
    return { output: { text: turn.reply, tool_calls: turn.tool_calls, usage: turn.usage, iterations: turn.iterations, agent_id: turn.agent_id } };
  },
};
