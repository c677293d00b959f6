import { obj, str, tool } from '../../../engine/tools/define';
import { registerBuiltinTool } from '../../../engine/tools/registry';
import { notFound } from '../../../lib/errors';

/**
 * `run_agent`: one turn of an agent the user the tool runs for may execute (authorize(); another
 * user's agent is not found), without history. The turn is one delegation level deeper than the
 * caller's, so an agent calling itself (or a cycle of agents and workflows) stops at
 * MAX_DELEGATION_DEPTH with a MAX_DEPTH error.
 */
registerBuiltinTool(
  tool<{ agent_id: string; message: string }>({
    name: 'run_agent',
    category: 'platform',
    description: 'Ask another agent the user may run: one turn of it (its model, system prompt and tools) on the message → its answer and token usage.',
    description_zh: '调用用户有权执行的另一个智能体:以该消息运行它一轮(使用它自己的模型、系统提示词和工具),返回其回答和令牌用量。',
    parameters: obj(
      {
        agent_id: str('The agent to ask', { format: 'uuid' }),
        message: str('What to say to the agent, with all the context it needs', { minLength: 1, maxLength: 100_000 }),
      },
      ['agent_id', 'message'],
    ),
    async execute({ agent_id, message }, ctx) {
      // The agent loop and authorize() are imported on the tool's first call, not at startup (every isolate registers the tool).
      const [{ nestedDepth, runAgent }, { assertChattable, loadTurnAgent }, { findActiveUser }, { authorizeResource }] = await Promise.all([
        import('../../../runs/agent-turn'),
        import('../../../runs/agents'),
        import('../../identity/auth/store'),
        import('../../identity/permissions/authorize'),
      ]);
      const depth = nestedDepth(ctx.depth, 'run_agent');
      const [user, agent] = await Promise.all([findActiveUser(ctx.env, ctx.userId), loadTurnAgent(ctx.env.DB, agent_id)]);
      if (!user) throw notFound('Agent');
      await authorizeResource(ctx.env, user, 'agent', agent && { id: agent.id, owner_id: agent.owner_id }, 'execute');
      assertChattable(agent!);
      const turn = await runAgent({ env: ctx.env, userId: user.id, agent: agent!, message, source: 'tool', signal: ctx.signal, depth });
      return {
        agent_id: agent!.id,
        agent_name: agent!.name,
        reply: turn.reply,
        token_usage: turn.token_usage,
        iterations: turn.iterations,
        finish_reason: turn.finish_reason,
        tool_calls: turn.tool_calls.map(({ name, output, error }) => ({ name, output, ...(error ? { error } : {}) })),
      };
    },
  }),
);
