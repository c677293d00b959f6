import type { SQL } from 'drizzle-orm';
import { db, type Statement } from '../../../../db/client';

/**
 * A raw SQL write that can go in a D1 batch. drizzle 0.45's `db.run(sql)` cannot when it has
 * parameters (its batch path binds `stmt`, which a raw query lacks), so the statement is attached.
 */
export function batchableRun(d1: D1Database, query: SQL): Statement {
  const raw = db(d1).run(query);
  return Object.assign(raw, { stmt: d1.prepare(raw.getQuery().sql) });
}
