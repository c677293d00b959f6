import { sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';

/**
 * The data layer's two entry points for stores (src/modules/<area>/<module>/store.ts):
 * `db(env.DB)` — drizzle over the D1 binding — and `runBatch` — statements from one or more
 * stores as one D1 batch (atomic: D1 has no BEGIN). Stores use drizzle's query builder; no
 * relational schema is registered, so making the handle costs nothing at startup.
 */
export type Db = DrizzleD1Database;

/** One statement of a batch: a drizzle query not yet run (insert, update, delete, select). */
export type Statement = BatchItem<'sqlite'>;

const handles = new WeakMap<D1Database, Db>();

/** The drizzle handle over a D1 binding, made once per binding. */
export function db(d1: D1Database): Db {
  let handle = handles.get(d1);
  if (!handle) {
    handle = drizzle(d1);
    handles.set(d1, handle);
  }
  return handle;
}

/** Runs statements built by stores as one D1 batch: all land or none does. */
export async function runBatch(d1: D1Database, statements: Statement[]): Promise<unknown[]> {
  if (statements.length === 0) return [];
  return db(d1).batch(statements as [Statement, ...Statement[]]);
}

/** The current time as an ISO 8601 UTC string with milliseconds, like the columns' defaults. */
export const now = () => sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
