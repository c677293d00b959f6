import { ApiError } from '../../lib/errors';
import { toBase64 } from '../../lib/crypto';
import type { QueryResult } from './types';

export const queryTimeout = (ms: number) => new ApiError(504, 'QUERY_TIMEOUT', `The query did not finish within ${ms} ms`);
export const sourceError = (message: string) => new ApiError(502, 'DATA_SOURCE_ERROR', message);
/** The data source answered, but refused the query (syntax, permissions, read-only). */
export const queryError = (message: string) => new ApiError(400, 'QUERY_ERROR', message);

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Races `work` against a deadline; on timeout `onTimeout` runs (closing the connection, which also
 * stops the server-side work) and the caller gets 504 QUERY_TIMEOUT.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout();
      } catch {
        /* already closed */
      }
      reject(queryTimeout(ms));
    }, ms);
  });
  work.catch(() => {}); // a rejection after the deadline must not go unhandled
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** JSON-safe cell values: dates as ISO strings, bytes as base64, bigints as strings. */
export function jsonValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return toBase64(v);
  if (Array.isArray(v)) return v.map(jsonValue);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonValue(x)]));
  return v;
}

/** Rows (already fetched with one extra to detect truncation) cut to `maxRows`. */
export function tabulate(rows: Record<string, unknown>[], maxRows: number, columns?: string[]): QueryResult {
  const truncated = rows.length > maxRows;
  const kept = rows.slice(0, maxRows).map((r) => jsonValue(r) as Record<string, unknown>);
  const cols = columns ?? [...new Set(kept.flatMap((r) => Object.keys(r)))];
  return { columns: cols, rows: kept, row_count: kept.length, truncated };
}
