// Tables of the monitoring module (its store alone reads and writes them).
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * A user's OpenTelemetry trace exporter (docs/traces.md): the spans of their agent turns and
 * workflow runs are sent to `endpoint` over OTLP/HTTP with `headers`, which are secrets (an
 * API key of the collector) and stored encrypted like every other secret.
 */
export const traceExporters = sqliteTable('trace_exporters', {
  userId: text('user_id').primaryKey(),
  /** The OTLP/HTTP traces URL, used as is (e.g. http://collector:4318/v1/traces). */
  endpoint: text('endpoint').notNull(),
  /** encryptSecret(JSON of {name: value}), or null without headers. */
  headers: text('headers'),
  /** The header names with masked values, for reading the exporter back. */
  headersHint: text('headers_hint').notNull().default('{}'),
  /** Prompts, answers, tool arguments and results go into the spans only when set. */
  includeContent: integer('include_content', { mode: 'boolean' }).notNull().default(false),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});
