import { app } from './app';
import type { Env } from './env';
import { handleIngestBatch, handleIngestDeadLetters } from './modules/knowledge-bases';

/** Queue consumers by queue name (wrangler.toml `[[queues.consumers]]`). */
const queueConsumers: Record<string, (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>> = {
  'tiangong-ingest': handleIngestBatch,
  'tiangong-ingest-dlq': handleIngestDeadLetters,
};

export default {
  fetch: app.fetch,

  /** Queue consumers (ingestion, goals, Feishu replies, schedules) are dispatched here by queue. */
  async queue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
    const consumer = queueConsumers[batch.queue];
    if (consumer) return consumer(batch, env, ctx);
    // An unknown queue: acknowledge nothing, so a misrouted message is retried, not lost.
    console.error(JSON.stringify({ type: 'queue', error: `no consumer for queue ${batch.queue}` }));
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
