/** Small D1 helpers: telling constraint failures apart and probing optional tables. */

/** SQL for the current time as an ISO 8601 UTC string with milliseconds, like the columns' defaults. */
export const NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

export const isUniqueViolation = (e: unknown) => /UNIQUE constraint failed/i.test(String(e instanceof Error ? e.message : e));

export const isMissingTable = (e: unknown) => /no such table/i.test(String(e instanceof Error ? e.message : e));

/** Whether a table exists: for writes that touch tables other modules may or may not have created. */
export async function tableExists(db: D1Database, name: string): Promise<boolean> {
  const row = await db.prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?").bind(name).first();
  return row !== null;
}

/** `?, ?, ?` for an IN list of n values. */
export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** A LIKE pattern matching `text` literally anywhere (use with `ESCAPE '\'`). */
export const likeContains = (text: string) => `%${text.replace(/[\\%_]/g, (c) => '\\' + c)}%`;

/** Which of `names` exist as tables, in one query (for reads across optional modules' tables). */
export async function existingTables(db: D1Database, names: string[]): Promise<Set<string>> {
  const { results } = await db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${placeholders(names.length)})`)
    .bind(...names)
    .all<{ name: string }>();
  return new Set(results.map((r) => r.name));
}

/**
 * The `column = ?` assignments of an UPDATE built from the fields a body sets: `set()` each
 * changed column, then `UPDATE t SET ${a.sql('updated_at = …')} WHERE id = ?` bound to `...a.binds, id`.
 */
export function assignments() {
  const columns: string[] = [];
  const binds: unknown[] = [];
  return {
    binds,
    set(column: string, value: unknown) {
      columns.push(`${column} = ?`);
      binds.push(value);
    },
    /** The SET list, with extra literal assignments (e.g. the update time) at the end. */
    sql: (...extra: string[]) => [...columns, ...extra].join(', '),
  };
}
