import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { decryptSecret, encryptSecret, maskSecret } from '../../../lib/crypto';
import { notFound } from '../../../lib/errors';
import { checkOutboundUrl } from '../../../lib/outbound';
import { getSecret } from '../../../lib/secrets';
import { forgetTraceDestinations } from '../../../runs/traces';
import type { PutTraceExporter, TraceExporter } from './schemas';
import * as store from './store';
import type { TraceExporterRow } from './store';

/**
 * A user's OpenTelemetry trace exporter (extension, docs/traces.md): where the spans of their
 * turns and runs go besides the platform's collector. The headers are secrets: encrypted at rest,
 * answered masked, decrypted only by the traces consumer.
 */

const toExporter = (env: Env, row: TraceExporterRow): TraceExporter => ({
  endpoint: row.endpoint,
  headers: JSON.parse(row.headersHint),
  include_content: row.includeContent,
  enabled: row.enabled,
  platform_export: !!env.OTEL_EXPORTER_OTLP_ENDPOINT,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

export async function getExporter(env: Env, user: AuthUser): Promise<TraceExporter> {
  const row = await store.findTraceExporter(env.DB, user.id);
  if (!row) throw notFound('Trace exporter');
  return toExporter(env, row);
}

export async function putExporter(env: Env, user: AuthUser, input: PutTraceExporter): Promise<TraceExporter> {
  // Refused now (400 SSRF_BLOCKED) rather than at every export.
  checkOutboundUrl(env, input.endpoint);
  const existing = await store.findTraceExporter(env.DB, user.id);
  let headers = existing?.headers ?? null;
  let headersHint = existing?.headersHint ?? '{}';
  if (input.headers) {
    const names = Object.keys(input.headers);
    headers = names.length ? await encryptSecret(JSON.stringify(input.headers), await getSecret(env, 'ENCRYPTION_KEY')) : null;
    headersHint = JSON.stringify(Object.fromEntries(names.map((n) => [n, maskSecret(input.headers![n]) ?? ''])));
  }
  const row = await store.putTraceExporter(env.DB, { userId: user.id, endpoint: input.endpoint, headers, headersHint, includeContent: input.include_content, enabled: input.enabled });
  forgetTraceDestinations(user.id);
  return toExporter(env, row);
}

export async function deleteExporter(env: Env, user: AuthUser): Promise<void> {
  if (!(await store.deleteTraceExporter(env.DB, user.id))) throw notFound('Trace exporter');
  forgetTraceDestinations(user.id);
}

/** The URL and headers of a user's exporter, decrypted for the consumer; null when gone or disabled. */
export async function userExportTarget(env: Env, userId: string): Promise<{ url: string; headers: Record<string, string> } | null> {
  const row = await store.findTraceExporter(env.DB, userId);
  if (!row?.enabled) return null;
  const headers = row.headers ? (JSON.parse(await decryptSecret(row.headers, await getSecret(env, 'ENCRYPTION_KEY'))) as Record<string, string>) : {};
  return { url: row.endpoint, headers };
}
