import { getTableColumns, getTableName, is, sql, SQL, type SQLWrapper, type Table } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';

/**
 * The data layer's entry points for stores (src/modules/<area>/<module>/store.ts): `db(env.DB)` —
 * drizzle over the D1 binding — and `runBatch` — statements of one or more stores as one D1 batch
 * (atomic: D1 has no BEGIN). Stores use drizzle's query builder; no relational schema is
 * registered, so making the handle costs nothing at startup.
 */
export type Db = DrizzleD1Database;

/** One statement of a batch: a drizzle query not yet run (insert, update, delete, select). */
export type Statement = BatchItem<'sqlite'>;

/**
 * A statement of a batch as a store hands it out: a drizzle query, or a prepared D1 statement
 * where a store keeps a hot path in raw SQL (the chat turn, the token check) — see the store.
 */
export type AnyStatement = Statement | D1PreparedStatement;

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

interface Prepared {
  getQuery(): { sql: string; params: unknown[] };
  mapResult(response: unknown, isFromBatch?: boolean): unknown;
}

const isDrizzle = (s: AnyStatement): s is Statement => typeof (s as { _prepare?: unknown })._prepare === 'function';

/**
 * Runs statements built by stores as one D1 batch: all land or none does. Each result is what
 * the statement gives on its own: rows (mapped to the schema's fields) for a drizzle select or
 * `returning()`, a D1Result for a prepared D1 statement.
 */
export async function runBatch(d1: D1Database, statements: AnyStatement[]): Promise<unknown[]> {
  if (statements.length === 0) return [];
  if (statements.every(isDrizzle)) return db(d1).batch(statements as [Statement, ...Statement[]]);
  const prepared: Array<Prepared | null> = [];
  const raw = statements.map((s) => {
    if (!isDrizzle(s)) {
      prepared.push(null);
      return s;
    }
    const p = (s as unknown as { _prepare(): Prepared })._prepare();
    prepared.push(p);
    const q = p.getQuery();
    return d1.prepare(q.sql).bind(...q.params);
  });
  const results = await d1.batch(raw);
  return results.map((r, i) => (prepared[i] ? prepared[i]!.mapResult(r, true) : r));
}

type RawQuery = Promise<unknown> & { getQuery(): { sql: string } };

/**
 * A query written with drizzle's `sql` (`db(d1).all(sql…)`, `.get`, `.run`) that can go in a
 * batch: drizzle 0.45 gives such a query no D1 statement of its own when it has parameters, so
 * `db.batch()` fails on it; this attaches one (the same SQL).
 */
export function batchable<Q extends RawQuery>(d1: D1Database, query: Q): Q {
  return Object.assign(query, { stmt: d1.prepare(query.getQuery().sql) });
}

/** Queries written with drizzle's `sql` (statistics, FTS5, JSON functions) that can also join a batch. */
export const sqlQuery = (d1: D1Database) => ({
  all: <T>(q: SQL) => batchable(d1, db(d1).all<T>(q)),
  get: <T>(q: SQL) => batchable(d1, db(d1).get<T>(q)),
  run: (q: SQL) => batchable(d1, db(d1).run(q)),
});

/**
 * `"column" AS "field", …` for every column of the table: the select list (or RETURNING list) of
 * a raw statement whose rows must have the schema's row type (camelCase fields), made once.
 */
export function columnsAs(table: Table): string {
  return Object.entries(getTableColumns(table))
    .map(([field, column]) => `"${column.name}" AS "${field}"`)
    .join(', ');
}

/**
 * `SELECT <every column AS its field name> FROM <table> WHERE "id" = ?`, made once from the
 * schema: for hot paths that read a row by id with a prepared D1 statement (no per-call query
 * building) and still get the schema's row type.
 */
export function rowByIdSql(table: Table): string {
  return `SELECT ${columnsAs(table)} FROM "${getTableName(table)}" WHERE "id" = ?`;
}

const insertTexts = new Map<string, string>();

/**
 * `INSERT INTO <table> (<the columns of fields>) VALUES (?, …), … <tail>` for `rows` rows, made
 * once per shape: a hot path's multi-row insert as a raw statement (no per-call query building).
 * Bind rowValues(table, fields, rows) to it.
 */
export function insertRowsSql(table: Table, fields: readonly string[], rows: number, tail = ''): string {
  const key = `${getTableName(table)}|${fields.join(',')}|${rows}|${tail}`;
  let text = insertTexts.get(key);
  if (text === undefined) {
    const columns = getTableColumns(table);
    const row = `(${fields.map(() => '?').join(', ')})`;
    text = `INSERT INTO "${getTableName(table)}" (${fields.map((f) => `"${columns[f].name}"`).join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}${tail ? ` ${tail}` : ''}`;
    insertTexts.set(key, text);
  }
  return text;
}

/**
 * The parameters of insertRowsSql's statement: each row's `fields` in order, as drizzle would
 * bind them (a column's driver value; an absent field its plain default, else NULL; a field whose
 * default is SQL or a function must be given).
 */
export function rowValues(table: Table, fields: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): unknown[] {
  const columns = getTableColumns(table);
  const out: unknown[] = [];
  for (const row of rows) {
    for (const field of fields) {
      const value = row[field];
      const column = columns[field];
      if (value === undefined) {
        // A column SQLite fills itself (a timestamp) cannot be named and left out: name fewer fields.
        if (is(column.default, SQL) || column.defaultFn) throw new Error(`rowValues: ${getTableName(table)}.${field} has no value and a default only the database or drizzle computes`);
        out.push(column.default === undefined ? null : column.mapToDriverValue(column.default));
      }
      else out.push(value === null ? null : column.mapToDriverValue(value));
    }
  }
  return out;
}

/** A fragment of raw SQL (a subquery one store hands another's raw statement) with its parameters, anonymous `?`s. */
export interface SqlText {
  text: string;
  params: unknown[];
}

/** The current time as SQL text, for raw statements (see now()). */
export const NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/** The current time as an ISO 8601 UTC string with milliseconds, like the columns' defaults. */
export const now = () => sql<string>`${sql.raw(NOW_SQL)}`;

// Text filters match as `LIKE '%text%'` / `LIKE 'text%'` did — ASCII case-insensitive (SQLite's
// lower() folds ASCII only, as LIKE does), the text taken literally — but without a LIKE pattern:
// D1 refuses patterns over 50 bytes ("LIKE or GLOB pattern too complex"), 17 Chinese characters.

/** `column` contains `text` (ASCII case-insensitive, the text literally: `%`, `_`, quotes are plain characters). */
export const likeContains = (column: SQLWrapper, text: string): SQL => sql`instr(lower(${column}), lower(${text})) > 0`;

/** `column` starts with `text` (ASCII case-insensitive, the text literally). */
export const likeStartsWith = (column: SQLWrapper, text: string): SQL => sql`substr(lower(${column}), 1, length(${text})) = lower(${text})`;
