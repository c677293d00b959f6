import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { millisToHrTime, hrTimeDuration, parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TraceSpan } from '../../queues';

/**
 * The OTLP/HTTP body of queued spans, built by the maintained OpenTelemetry packages: each span
 * becomes an SDK ReadableSpan and @opentelemetry/otlp-transformer's JSON serializer makes the
 * `ExportTraceServiceRequest`. Loaded lazily (dynamic import) by the traces consumer only, so
 * no request pays for evaluating the SDK.
 */

export const SERVICE_NAME = 'tiangong';
const SCOPE = { name: 'tiangong', version: '1' };

const KINDS: Record<TraceSpan['kind'], SpanKind> = { internal: SpanKind.INTERNAL, client: SpanKind.CLIENT };
const STATUSES: Record<TraceSpan['status'], SpanStatusCode> = { unset: SpanStatusCode.UNSET, ok: SpanStatusCode.OK, error: SpanStatusCode.ERROR };

export function toReadableSpans(spans: TraceSpan[]): ReadableSpan[] {
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: SERVICE_NAME });
  return spans.map((s) => {
    const startTime = millisToHrTime(s.start_ms);
    const endTime = millisToHrTime(s.end_ms);
    const context = { traceId: s.trace_id, spanId: s.span_id, traceFlags: TraceFlags.SAMPLED };
    return {
      name: s.name,
      kind: KINDS[s.kind],
      spanContext: () => context,
      parentSpanContext: s.parent_span_id ? { traceId: s.trace_id, spanId: s.parent_span_id, traceFlags: TraceFlags.SAMPLED } : undefined,
      startTime,
      endTime,
      duration: hrTimeDuration(startTime, endTime),
      status: { code: STATUSES[s.status], ...(s.status_message ? { message: s.status_message } : {}) },
      attributes: s.attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope: SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

/** The OTLP/HTTP JSON body (`Content-Type: application/json`) of the spans. */
export function otlpJsonBody(spans: TraceSpan[]): Uint8Array {
  const body = JsonTraceSerializer.serializeRequest(toReadableSpans(spans));
  if (!body) throw new Error('the OTLP serializer produced no body');
  return body;
}

/** `OTEL_EXPORTER_OTLP_HEADERS` (`name=value,…`, values URL-encoded) as a record, parsed by @opentelemetry/core. */
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  return raw ? parseKeyPairsIntoRecord(raw) : {};
}

/** The traces URL of an OTLP/HTTP base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT semantics). */
export function tracesUrl(base: string): string {
  const url = new URL(base);
  if (!/\/v1\/traces\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}
