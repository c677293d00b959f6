import { obj, str, tool, toolInputError } from '../../../engine/tools/define';
import { registerBuiltinTool } from '../../../engine/tools/registry';
import { ApiError } from '../../../lib/errors';

/**
 * `feishu_send_message`: an agent messages the Feishu account bound to the user it works for,
 * or a Feishu chat in which that account has talked to the bot (never anyone else).
 */
registerBuiltinTool(
  tool<{ text: string; chat_id?: string }>({
    name: 'feishu_send_message',
    category: 'integration',
    description: "Send a text message to the user's own Feishu account (bound to their Tiangong account), or to a Feishu chat where they talked to the bot.",
    description_zh: '向当前用户绑定的飞书账号发送文本消息,或发送到该用户与机器人对话过的飞书群聊。',
    parameters: obj({ text: str('Message text', { minLength: 1, maxLength: 10000 }), chat_id: str('A Feishu chat id (oc_...) the user talked to the bot in', { maxLength: 100 }) }, ['text']),
    async execute({ text, chat_id }, ctx) {
      // The Feishu client, service and store are imported on the tool's first call, not at startup (every isolate registers the tool).
      const [{ feishuConfig, sendText }, { callOpenApi }, { findBindingOfUser, hasSessionInChat }] = await Promise.all([
        import('../../../engine/feishu/client'),
        import('./service'),
        import('./store'),
      ]);
      const cfg = feishuConfig(ctx.env);
      if (!cfg) throw new ApiError(503, 'TOOL_NOT_CONFIGURED', 'Feishu is not configured (FEISHU_APP_ID, FEISHU_APP_SECRET)');
      const binding = await findBindingOfUser(ctx.env.DB, ctx.userId);
      if (!binding) throw toolInputError('The user has no bound Feishu account');
      if (chat_id) {
        const known = await hasSessionInChat(ctx.env.DB, chat_id, binding.openId);
        if (!known) throw toolInputError('The user has not talked to the bot in that chat');
        return { message_id: await callOpenApi(ctx.env, 'send_message', () => sendText(ctx.env, cfg, 'chat_id', chat_id, text)), sent: true };
      }
      return { message_id: await callOpenApi(ctx.env, 'send_message', () => sendText(ctx.env, cfg, 'open_id', binding.openId, text)), sent: true };
    },
  }),
);
