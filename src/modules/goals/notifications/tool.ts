import { obj, str, tool } from '../../../engine/tools/define';
import { registerBuiltinTool } from '../../../engine/tools/registry';

/** `send_notification`: an agent notifies the user it works for (never anyone else). */
registerBuiltinTool(
  tool<{ title: string; body?: string; resource_type?: string; resource_id?: string }>({
    name: 'send_notification',
    category: 'platform',
    description: 'Send the user an in-app notification (shown in their notification list, unread until they read it).',
    description_zh: '给当前用户发送一条站内通知(出现在通知列表中,阅读前为未读)。',
    parameters: obj(
      {
        title: str('Title', { minLength: 1, maxLength: 200 }),
        body: str('Text', { maxLength: 5000 }),
        resource_type: str('What it is about, e.g. goal, task, agent', { maxLength: 50 }),
        resource_id: str('The id of that resource', { maxLength: 100 }),
      },
      ['title'],
    ),
    async execute({ title, body = '', resource_type, resource_id }, ctx) {
      // Imported on the tool's first call, not at startup (every isolate registers the tool).
      const { createNotification } = await import('./service');
      const n = await createNotification(ctx.env, ctx.userId, { type: 'agent_message', title, body, resource_type: resource_type ?? null, resource_id: resource_id ?? null });
      return { notification_id: n.id, sent: true };
    },
  }),
);
