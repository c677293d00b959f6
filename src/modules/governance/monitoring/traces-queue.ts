import type { Env } from '../../../env';
import { ApiError } from '../../../lib/errors';
import { guardedFetch } from '../../../lib/outbound';
import { TRACES_QUEUE_NAME, type TraceExportMessage, type TraceSpan } from '../../../queues';
import { logJobFailure } from '../system-logs/log';
import { userExportTarget } from './traces';

const TRACES_JOB = `queue:${TRACES_QUEUE_NAME}`;

const isTraceMessage = (b: unknown): b is TraceExportMessage =>
  !!b && typeof b === 'object' && ['platform', 'user'].includes((b as TraceExportMessage).destination) && typeof (b as TraceExportMessage).user_id === 'string' && Array.isArray((b as TraceExportMessage).spans);

/** The platform's collector: OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`, OTEL_EXPORTER_OTLP_HEADERS. */
async function platformTarget(env: Env): Promise<{ url: string; headers: Record<string, string> } | null> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  const { parseOtlpHeaders, tracesUrl } = await import('../../../engine/telemetry/otlp');
  return { url: tracesUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT), headers: parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS) };
}

/** POSTs the spans as one OTLP/HTTP JSON request through the outbound guard; throws on a failed export. */
async function post(env: Env, target: { url: string; headers: Record<string, string> }, spans: TraceSpan[]): Promise<void> {
  // The SDK and the serializer are loaded here only, never by a request.
  const { otlpJsonBody } = await import('../../../engine/telemetry/otlp');
  const res = await guardedFetch(env, target.url, { method: 'POST', headers: { ...target.headers, 'content-type': 'application/json' }, body: otlpJsonBody(spans) }, { maxBytes: 64 * 1024 });
  await res.body?.cancel();
  if (!res.ok) throw new ApiError(502, 'UPSTREAM_ERROR', `the collector answered ${res.status}`);
}

/**
 * The `tiangong-traces` consumer: the batch's spans are grouped by destination (the platform, or
 * one user's exporter) and each group is one OTLP/HTTP request. A failed export retries that
 * group's messages (a redelivery re-sends the same trace and span ids: OTLP has no
 * acknowledgement per span, so a collector may see a span twice, which backends keep or merge by
 * id); spans for an exporter since removed or disabled are dropped.
 */
export async function consumeTraceBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const groups = new Map<string, Array<Message<TraceExportMessage>>>();
  for (const message of batch.messages) {
    if (!isTraceMessage(message.body)) {
      await logJobFailure(env, { job: TRACES_JOB, gaveUp: true, messageId: message.id, attempt: message.attempts, cause: 'malformed trace message dropped' });
      message.ack();
      continue;
    }
    const key = message.body.destination === 'platform' ? 'platform' : `user:${message.body.user_id}`;
    groups.set(key, [...(groups.get(key) ?? []), message as Message<TraceExportMessage>]);
  }
  await Promise.all(
    [...groups].map(async ([key, messages]) => {
      const first = messages[0].body;
      try {
        const target = first.destination === 'platform' ? await platformTarget(env) : await userExportTarget(env, first.user_id);
        if (target) await post(env, target, messages.flatMap((m) => m.body.spans));
        for (const m of messages) m.ack();
      } catch (e) {
        const attempt = Math.max(...messages.map((m) => m.attempts));
        await logJobFailure(env, { job: TRACES_JOB, gaveUp: false, attempt, resource: { type: 'trace_export', id: key }, userId: first.destination === 'user' ? first.user_id : undefined, cause: e });
        for (const m of messages) m.retry({ delaySeconds: Math.min(60, 2 ** m.attempts) });
      }
    }),
  );
}

/** Dead letters: spans that could not be exported after every retry are dropped, with a log line. */
export async function consumeTraceDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const body = isTraceMessage(message.body) ? message.body : null;
    await logJobFailure(env, {
      job: TRACES_JOB,
      gaveUp: true,
      messageId: message.id,
      resource: body ? { type: 'trace_export', id: body.destination === 'platform' ? 'platform' : `user:${body.user_id}` } : undefined,
      userId: body?.destination === 'user' ? body.user_id : undefined,
    });
    message.ack();
  }
}
