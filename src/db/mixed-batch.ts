import { getTableColumns, getTableName, type Table } from 'drizzle-orm';
import type { Statement } from './client';

/**
 * One D1 batch of drizzle statements (Statement) and prepared D1 statements together, for the
 * time other owners still hand out raw statements (a user's read, grant cleanup, llm_calls):
 * drizzle items are prepared and their results mapped as drizzle's own batch() does; raw items
 * come back as D1Results. When every item is drizzle, `runBatch` (./client) is the same thing.
 */
export type AnyStatement = Statement | D1PreparedStatement;

interface Prepared {
  getQuery(): { sql: string; params: unknown[] };
  mapResult(response: unknown, isFromBatch?: boolean): unknown;
}

const isDrizzle = (s: AnyStatement): s is Statement => typeof (s as { _prepare?: unknown })._prepare === 'function';

export async function mixedBatch(d1: D1Database, statements: AnyStatement[]): Promise<unknown[]> {
  if (statements.length === 0) return [];
  const prepared: Array<Prepared | null> = [];
  const raw = statements.map((s) => {
    if (!isDrizzle(s)) {
      prepared.push(null);
      return s as D1PreparedStatement;
    }
    const p = (s as unknown as { _prepare(): Prepared })._prepare();
    prepared.push(p);
    const q = p.getQuery();
    return d1.prepare(q.sql).bind(...q.params);
  });
  const results = await d1.batch(raw);
  return results.map((r, i) => (prepared[i] ? prepared[i]!.mapResult(r, true) : r));
}

/**
 * `SELECT <every column AS its field name> FROM <table> WHERE "id" = ?`, made once from the
 * schema: for hot paths that read a row by id with a raw D1 statement (no per-call query
 * building) and still get the schema's row type (camelCase fields).
 */
export function rowByIdSql(table: Table): string {
  const columns = Object.entries(getTableColumns(table)).map(([field, column]) => `"${column.name}" AS "${field}"`);
  return `SELECT ${columns.join(', ')} FROM "${getTableName(table)}" WHERE "id" = ?`;
}
