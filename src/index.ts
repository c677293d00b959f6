import { app } from './app';
import type { Env } from './env';

export { ChatSession } from '../durable-objects/chat-session';

export default {
  fetch: app.fetch,

  /** Queue consumers (ingestion, goals, Feishu replies, schedules) are dispatched here by queue. */
  async queue(batch: MessageBatch<unknown>, _env: Env, _ctx: ExecutionContext): Promise<void> {
    // No queue is bound yet: acknowledge nothing, so a misrouted message is retried, not lost.
    for (const message of batch.messages) message.retry();
  },

  /** Cron Triggers: due schedules, alert rules, lease expiry, cleanup. */
  async scheduled(_controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
    // Expired login-attempt rows are the only periodic cleanup so far.
    await env.DB.prepare('DELETE FROM login_attempts WHERE attempted_at <= ?')
      .bind(Date.now() - 15 * 60 * 1000)
      .run();
  },
} satisfies ExportedHandler<Env>;
