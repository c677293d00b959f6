import { sql, type SQL } from 'drizzle-orm';

/**
 * SQL for grouped statistics with real percentiles, computed inside SQLite/D1 with window
 * functions (nearest-rank: the value at rank ceil(p/100 · n) in ascending order), so only one
 * row per group leaves the database whatever the number of rows aggregated. The owning stores
 * give the pieces as drizzle SQL (a string piece is literal SQL: bare column names, no input).
 */
type Piece = string | SQL;

export interface PercentileQuery {
  /** A table, or a parenthesised subquery with an alias. */
  from: Piece;
  /** The condition over `from` (no `WHERE`), or undefined. */
  where?: SQL;
  /** Output alias → grouping expression over `from` (empty: one overall row). */
  groups: Record<string, Piece>;
  /** The measured expression (NULLs are left out of the percentiles). */
  value: Piece;
  /** Further aggregates over the source's columns (bare names), e.g. `count(*) AS calls, sum(tokens) AS tokens`. */
  select: Piece;
  percentiles?: number[];
  orderBy?: string;
  limit?: number;
}

const piece = (p: Piece): SQL => (typeof p === 'string' ? sql.raw(p) : p);

export function percentileSql(q: PercentileQuery): SQL {
  const ps = q.percentiles ?? [50, 95];
  const aliases = Object.keys(q.groups);
  const value = piece(q.value);
  const groupCols = aliases.map((a) => sql`${piece(q.groups[a])} AS ${sql.raw(`"__g_${a}"`)}, `);
  const partition = aliases.length ? sql.raw(`GROUP BY ${aliases.map((a) => `"__g_${a}"`).join(', ')}`) : sql``;
  // Window functions cannot reference aliases of the same SELECT, hence the grouping expressions twice.
  const partitionExpr = aliases.length ? sql`PARTITION BY ${sql.join(aliases.map((a) => piece(q.groups[a])), sql`, `)}` : sql``;
  const pcols = sql.raw(ps.map((p) => `max(CASE WHEN __rn = (${p} * __n + 99) / 100 THEN __v END) AS p${p}`).join(', '));
  return sql`WITH __rows AS (
      SELECT *, ${sql.join(groupCols)}${value} AS __v,
        row_number() OVER (${partitionExpr} ORDER BY (${value}) IS NULL, ${value}) AS __rn,
        count(${value}) OVER (${partitionExpr}) AS __n
      FROM ${piece(q.from)} ${q.where ? sql`WHERE ${q.where}` : sql``}
    )
    SELECT ${sql.raw(aliases.map((a) => `"__g_${a}" AS ${a}, `).join(''))}${piece(q.select)}, ${pcols}
    FROM __rows ${partition}
    ${sql.raw(q.orderBy ? `ORDER BY ${q.orderBy}` : '')} ${sql.raw(q.limit ? `LIMIT ${q.limit}` : '')}`;
}

/** A ratio that is 0 (not NaN) for an empty denominator. */
export const ratio = (num: number, den: number) => (den ? num / den : 0);

/** A run status normalised across run tables: succeeded (or completed), failed, cancelled, running, other. */
export const normalisedStatus = (column: string): string =>
  `CASE ${column} WHEN 'succeeded' THEN 'succeeded' WHEN 'completed' THEN 'succeeded' WHEN 'failed' THEN 'failed' WHEN 'cancelled' THEN 'cancelled'
      WHEN 'running' THEN 'running' ELSE 'other' END`;
