import type { Env } from '../../env';

/** The types a data source can have (MongoDB is not among them: see docs/knowledge.md). */
export const DATA_SOURCE_TYPES = ['postgresql', 'mysql', 'redis', 'csv', 'json', 'http', 's3'] as const;
export type DataSourceType = (typeof DATA_SOURCE_TYPES)[number];

/** Bounds every query gets: rows returned and wall-clock time (server-side where the server can, and client-side). */
export interface QueryLimits {
  maxRows: number;
  timeoutMs: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxRows: 100, timeoutMs: 10_000 };
export const MAX_ROWS = 1000;
export const MAX_TIMEOUT_MS = 30_000;

export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  row_count: number;
  /** More rows existed than `max_rows`; only the first `max_rows` are returned. */
  truncated: boolean;
}

export interface TestResult {
  ok: true;
  /** What the server says it is (version string, object count, ...). */
  server: string;
}

/** A connected type: its non-secret settings, its decrypted credentials, the worker's env. */
export interface SourceContext<C, S> {
  env: Env;
  config: C;
  credentials: S;
  /** Resolves an upload id to its bytes (the uploads module's storage); for csv/json. */
  readUpload?: (uploadId: string) => Promise<string>;
}
