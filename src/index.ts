import { app } from './app';
import type { Env } from './env';
import { logJob, logJobFailure } from './modules/governance/system-logs/log';
import {
  AUDIT_DLQ_NAME,
  AUDIT_QUEUE_NAME,
  EVALS_DLQ_NAME,
  EVALS_QUEUE_NAME,
  FEISHU_DLQ_NAME,
  FEISHU_QUEUE_NAME,
  SCHEDULES_DLQ_NAME,
  SCHEDULES_QUEUE_NAME,
  TASKS_DLQ_NAME,
  TASKS_QUEUE_NAME,
  TRACES_DLQ_NAME,
  TRACES_QUEUE_NAME,
} from './queues';

export { CollabRoom } from '../durable-objects/collab-room';
export { Execution } from '../durable-objects/execution';
export { ChatSession } from '../durable-objects/chat-session';

type Consumer = (batch: MessageBatch<unknown>, env: Env) => Promise<void>;

// Consumers and cron steps are imported when first run, not at startup (as the module routers are:
// src/modules/index.ts), so an isolate that only answers requests never evaluates them.

/** Queue consumers by queue name; each module adds its own. */
const consumers: Record<string, () => Promise<Consumer>> = {
  [TASKS_QUEUE_NAME]: () => import('./modules/goals/tasks/execution').then((m) => m.consumeTaskBatch),
  [TASKS_DLQ_NAME]: () => import('./modules/goals/tasks/execution').then((m) => m.consumeTaskDeadLetters),
  'tiangong-ingest': () => import('./modules/knowledge/knowledge-bases').then((m) => m.handleIngestBatch),
  'tiangong-ingest-dlq': () => import('./modules/knowledge/knowledge-bases').then((m) => m.handleIngestDeadLetters),
  [FEISHU_QUEUE_NAME]: () => import('./modules/integrations/feishu/queue').then((m) => m.consumeFeishuBatch),
  [FEISHU_DLQ_NAME]: () => import('./modules/integrations/feishu/queue').then((m) => m.consumeFeishuDeadLetters),
  [SCHEDULES_QUEUE_NAME]: () => import('./modules/workflows/agent-schedules/queue').then((m) => m.consumeScheduleBatch),
  [SCHEDULES_DLQ_NAME]: () => import('./modules/workflows/agent-schedules/queue').then((m) => m.consumeScheduleDeadLetters),
  [AUDIT_QUEUE_NAME]: () => import('./modules/governance/audit-logs/recording').then((m) => m.consumeAuditBatch),
  [AUDIT_DLQ_NAME]: () => import('./modules/governance/audit-logs/recording').then((m) => m.consumeAuditDeadLetters),
  [EVALS_QUEUE_NAME]: () => import('./modules/governance/evals/queue').then((m) => m.consumeEvalBatch),
  [EVALS_DLQ_NAME]: () => import('./modules/governance/evals/queue').then((m) => m.consumeEvalDeadLetters),
  [TRACES_QUEUE_NAME]: () => import('./modules/governance/monitoring/traces-queue').then((m) => m.consumeTraceBatch),
  [TRACES_DLQ_NAME]: () => import('./modules/governance/monitoring/traces-queue').then((m) => m.consumeTraceDeadLetters),
};

/** Cron steps, run on every trigger; each is independent, so one failing does not stop the others. */
const cronSteps: Array<[name: string, step: (env: Env) => Promise<unknown>]> = [
  [
    'login-attempts',
    async (env) => {
      const [{ purgeLoginAttempts }, { LOGIN_WINDOW_MS }] = await Promise.all([
        import('./modules/identity/auth/store'),
        import('./modules/identity/auth/service'),
      ]);
      return purgeLoginAttempts(env.DB, Date.now() - LOGIN_WINDOW_MS);
    },
  ],
  ['agent-schedules', async (env) => (await import('./modules/workflows/agent-schedules/queue')).enqueueDueSchedules(env)],
  ['webhook-state', async (env) => (await import('./modules/workflows/webhooks/service')).cleanupWebhookState(env)],
  ['task-leases', async (env) => (await import('./modules/goals/tasks/execution')).expireTaskLeases(env)],
  ['abandoned-inline-runs', async (env) => (await import('./runs/workflow-run')).failAbandonedInlineRuns(env)],
  ['feishu-events', async (env) => (await import('./modules/integrations/feishu/service')).cleanupEvents(env)],
  ['alert-rules', async (env) => (await import('./modules/governance/alert-rules/evaluate')).evaluateAlertRules(env)],
  ['log-retention', async (env) => (await import('./modules/governance/system-logs/retention')).enforceLogRetention(env)],
  ['execution-retention', async (env) => (await import('./modules/workflows/executions/retention')).enforceExecutionRetention(env)],
];

/** Runs the cron steps and records the run as one `job` line of the system log. */
export async function runCron(env: Env): Promise<void> {
  const started = Date.now();
  const timed = cronSteps.map(async ([name, step]) => {
    const t = Date.now();
    try {
      await step(env);
      return { name, ok: true, ms: Date.now() - t };
    } catch (e) {
      // The next trigger runs the step again: a failed attempt.
      await logJobFailure(env, { job: `cron:${name}`, gaveUp: false, cause: e });
      return { name, ok: false, ms: Date.now() - t, error: String(e) };
    }
  });
  const steps = await Promise.all(timed);
  const failed = steps.filter((s) => !s.ok);
  const message = failed.length ? `cron: ${failed.map((s) => s.name).join(', ')} failed` : `cron: ${steps.length} steps ok`;
  await logJob(env, 'cron', true, Date.now() - started, message, { steps });
}

/**
 * The batch as its consumer sees it, noting which messages the consumer hands back for another
 * delivery, so the batch's line says how many were done and how many retried (the consumer
 * records each failure itself, with its cause and resource: logJobFailure).
 */
function noteRetries(batch: MessageBatch<unknown>): { batch: MessageBatch<unknown>; retried: Set<string> } {
  const retried = new Set<string>();
  const messages = batch.messages.map(
    (m): Message<unknown> => ({
      id: m.id,
      timestamp: m.timestamp,
      body: m.body,
      attempts: m.attempts,
      ack: () => m.ack(),
      retry: (options) => {
        retried.add(m.id);
        m.retry(options);
      },
    }),
  );
  const noted: MessageBatch<unknown> = {
    queue: batch.queue,
    metadata: batch.metadata,
    messages,
    ackAll: () => batch.ackAll(),
    retryAll: (options) => {
      for (const m of batch.messages) retried.add(m.id);
      batch.retryAll(options);
    },
  };
  return { batch: noted, retried };
}

export default {
  fetch: app.fetch,

  /** Queue consumers (ingestion, goals, Feishu replies, schedules, audit/request records) are dispatched here by queue. */
  async queue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
    const consumer = consumers[batch.queue];
    // An unknown queue: acknowledge nothing, so a misrouted message is retried, not lost.
    if (!consumer) return batch.retryAll();
    const started = Date.now();
    const job = `queue:${batch.queue}`;
    const noted = noteRetries(batch);
    try {
      await (await consumer())(noted.batch, env);
      const retried = noted.retried.size;
      await logJob(env, job, true, Date.now() - started, `${batch.messages.length} message(s): ${batch.messages.length - retried} done, ${retried} to be retried`);
    } catch (e) {
      // The runtime delivers the whole batch again: a failed attempt of each message.
      const ids = batch.messages.map((m) => m.id);
      await logJob(env, job, false, Date.now() - started, `batch of ${ids.length} message(s) failed, to be retried: ${e instanceof Error ? e.message : String(e)}`, {
        job,
        message_ids: ids,
        attempts: batch.messages.map((m) => m.attempts),
        cause: String(e),
      });
      throw e;
    }
  },

  /** Cron Triggers: due schedules, alert rules, lease expiry, log retention. */
  async scheduled(_controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
    await runCron(env);
  },
} satisfies ExportedHandler<Env>;
