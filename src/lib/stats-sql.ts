/**
 * SQL for grouped statistics with real percentiles, computed inside SQLite/D1 with window
 * functions (nearest-rank: the value at rank ceil(p/100 · n) in ascending order), so only one
 * row per group leaves the database whatever the number of rows aggregated.
 */
export interface PercentileQuery {
  /** A table name, or a parenthesised subquery with an alias. */
  from: string;
  /** `WHERE …` over `from`, or ''. */
  where: string;
  /** Output alias → grouping expression over `from` (empty: one overall row). */
  groups: Record<string, string>;
  /** The measured expression (NULLs are left out of the percentiles). */
  value: string;
  /** Further aggregates over the source's columns, e.g. `count(*) AS calls, sum(tokens) AS tokens`. */
  select: string;
  percentiles?: number[];
  orderBy?: string;
  limit?: number;
}

export function percentileSql(q: PercentileQuery): string {
  const ps = q.percentiles ?? [50, 95];
  const aliases = Object.keys(q.groups);
  const groupCols = aliases.map((a) => `${q.groups[a]} AS "__g_${a}"`).join(', ');
  const partition = aliases.length ? `PARTITION BY ${aliases.map((a) => `"__g_${a}"`).join(', ')}` : '';
  // Window functions cannot reference aliases of the same SELECT, hence the grouping expressions twice.
  const partitionExpr = aliases.length ? `PARTITION BY ${aliases.map((a) => q.groups[a]).join(', ')}` : '';
  const pcols = ps.map((p) => `max(CASE WHEN __rn = (${p} * __n + 99) / 100 THEN __v END) AS p${p}`).join(', ');
  return `WITH __rows AS (
      SELECT *, ${groupCols ? `${groupCols}, ` : ''}${q.value} AS __v,
        row_number() OVER (${partitionExpr} ORDER BY (${q.value}) IS NULL, ${q.value}) AS __rn,
        count(${q.value}) OVER (${partitionExpr}) AS __n
      FROM ${q.from} ${q.where}
    )
    SELECT ${aliases.map((a) => `"__g_${a}" AS ${a}, `).join('')}${q.select}, ${pcols}
    FROM __rows ${partition ? `GROUP BY ${aliases.map((a) => `"__g_${a}"`).join(', ')}` : ''}
    ${q.orderBy ? `ORDER BY ${q.orderBy}` : ''} ${q.limit ? `LIMIT ${q.limit}` : ''}`;
}

/** A ratio that is 0 (not NaN) for an empty denominator. */
export const ratio = (num: number, den: number) => (den ? num / den : 0);
