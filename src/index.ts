import { app } from './app';
import type { Env } from './env';
import { handleIngestBatch, handleIngestDeadLetters } from './modules/knowledge-bases';
import { consumeTaskBatch, consumeTaskDeadLetters, expireTaskLeases, TASKS_DLQ_NAME, TASKS_QUEUE_NAME } from './modules/goals/execution';

/** Queue consumers by queue name; each module adds its own. */
const consumers: Record<string, (batch: MessageBatch<unknown>, env: Env) => Promise<void>> = {
  [TASKS_QUEUE_NAME]: consumeTaskBatch,
  [TASKS_DLQ_NAME]: consumeTaskDeadLetters,
  'tiangong-ingest': handleIngestBatch,
  'tiangong-ingest-dlq': handleIngestDeadLetters,
};

/** Cron steps, run on every trigger; each is independent, so one failing does not stop the others. */
const cronSteps: Array<[name: string, step: (env: Env) => Promise<unknown>]> = [
  ['login-attempts', (env) => env.DB.prepare('DELETE FROM login_attempts WHERE attempted_at <= ?').bind(Date.now() - 15 * 60 * 1000).run()],
  ['task-leases', expireTaskLeases],
];

export { Execution } from '../durable-objects/execution';
export { ChatSession } from '../durable-objects/chat-session';

export default {
  fetch: app.fetch,

  /** Queue consumers (ingestion, goals, Feishu replies, schedules) are dispatched here by queue. */
  async queue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
    const consumer = consumers[batch.queue];
    // An unknown queue: acknowledge nothing, so a misrouted message is retried, not lost.
    if (!consumer) return batch.retryAll();
    await consumer(batch, env);
  },

  /** Cron Triggers: due schedules, alert rules, lease expiry, cleanup. */
  async scheduled(_controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
    const results = await Promise.allSettled(cronSteps.map(([, step]) => step(env)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') console.error(JSON.stringify({ cron: cronSteps[i][0], error: String(r.reason) }));
    });
  },
} satisfies ExportedHandler<Env>;
