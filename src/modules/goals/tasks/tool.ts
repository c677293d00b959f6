import { bool, int, obj, str, tool } from '../../../engine/tools/define';
import { registerBuiltinTool } from '../../../engine/tools/registry';
import { findActiveUser } from '../../identity/auth/store';
import { unauthorized } from '../../../lib/errors';

/** `create_task`: lets an agent add work to one of its user's goals (same rules as POST /tasks). */
registerBuiltinTool(
  tool<Record<string, unknown>>({
    name: 'create_task',
    category: 'platform',
    description: "Add a task to one of the user's goals, optionally depending on other tasks, assigned to an agent or requiring approval.",
    description_zh: '向用户的某个目标添加任务,可设置依赖任务、指派智能体或要求审批。',
    parameters: obj(
      {
        goal_id: str('The goal to add the task to', { format: 'uuid' }),
        title: str('Short title', { minLength: 1, maxLength: 200 }),
        description: str('What to do', { maxLength: 10000 }),
        depends_on: { type: 'array', items: { type: 'string', format: 'uuid' }, description: 'Tasks that must complete first', maxItems: 50 },
        assigned_agent_id: str('Agent that should execute it', { format: 'uuid' }),
        requires_approval: bool('Wait for a human approval before running', { default: false }),
        max_retries: int('Retries after a failure', { minimum: 0, maximum: 10, default: 2 }),
      },
      ['goal_id', 'title'],
    ),
    async execute(args, ctx) {
      // The tasks schemas and service are imported on the tool's first call, not at startup (every isolate registers the tool).
      const [user, { CreateTaskBody }, { createTask }] = await Promise.all([findActiveUser(ctx.env, ctx.userId), import('./schemas'), import('./service')]);
      if (!user) throw unauthorized('The user this tool runs for no longer exists');
      const input = CreateTaskBody.parse(args);
      const task = await createTask(ctx.env, user, input);
      return { task_id: task.id, goal_id: task.goal_id, title: task.title, status: task.status };
    },
  }),
);
