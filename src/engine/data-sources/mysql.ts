import type { Env } from '../../env';
import { checkOutboundSocket } from '../../lib/outbound';
import type { QueryLimits, QueryResult, TestResult } from './types';
import type { SqlConfig, SqlCredentials, SqlQuery } from './postgres';
import { errorText, queryError, queryTimeout, sourceError, tabulate, withDeadline } from './util';

type Connection = import('mysql2/promise').Connection;

async function open(env: Env, config: SqlConfig, credentials: SqlCredentials, limits: QueryLimits): Promise<Connection> {
  checkOutboundSocket(env, config.host, config.port);
  // Loaded on first use; `disableEval` is what makes mysql2 run on Workers (no code generation).
  const mysql = await import('mysql2/promise');
  try {
    return await mysql.createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password: credentials.password ?? '',
      database: config.database,
      ssl: config.ssl ? {} : undefined,
      connectTimeout: limits.timeoutMs,
      disableEval: true,
      multipleStatements: false,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    } as never);
  } catch (e) {
    throw sourceError(`MySQL: ${errorText(e)}`);
  }
}

function classify(e: unknown, timeoutMs: number): Error {
  if (e instanceof Error && 'status' in e) return e;
  // 1969: MariaDB's max_statement_time, 3024: MySQL's max_execution_time.
  const errno = (e as { errno?: number } | null)?.errno;
  if (errno === 1969 || errno === 3024) return queryTimeout(timeoutMs);
  if (e && typeof e === 'object' && 'sqlMessage' in e) return queryError(`MySQL: ${(e as { sqlMessage: string }).sqlMessage}`);
  return sourceError(`MySQL: ${errorText(e)}`);
}

export async function testMysql(env: Env, config: SqlConfig, credentials: SqlCredentials, limits: QueryLimits): Promise<TestResult> {
  const conn = await open(env, config, credentials, limits);
  try {
    const [rows] = await withDeadline(conn.query('SELECT VERSION() AS version'), limits.timeoutMs, () => conn.destroy());
    return { ok: true, server: String((rows as Array<{ version: string }>)[0].version) };
  } catch (e) {
    throw classify(e, limits.timeoutMs);
  } finally {
    conn.destroy();
  }
}

/**
 * One statement in `START TRANSACTION READ ONLY` (the server refuses writes; multi-statements
 * are off, so the transaction cannot be left). `sql_select_limit` makes the server stop at
 * max_rows + 1; `max_statement_time` (MariaDB) or `max_execution_time` (MySQL) bounds the work.
 */
export async function queryMysql(env: Env, config: SqlConfig, credentials: SqlCredentials, query: SqlQuery, limits: QueryLimits): Promise<QueryResult> {
  const conn = await open(env, config, credentials, limits);
  try {
    const work = (async () => {
      await conn.query(`SET SESSION sql_select_limit = ${limits.maxRows + 1}`);
      await conn
        .query(`SET SESSION max_statement_time = ${limits.timeoutMs / 1000}`)
        .catch(() => conn.query(`SET SESSION max_execution_time = ${Math.floor(limits.timeoutMs)}`))
        .catch(() => {});
      await conn.query('START TRANSACTION READ ONLY');
      const [rows, fields] = await conn.query({ sql: query.sql, values: query.params ?? [] });
      await conn.query('ROLLBACK');
      if (!Array.isArray(rows)) return tabulate([], limits.maxRows, []);
      return tabulate(rows as Record<string, unknown>[], limits.maxRows, (fields ?? []).map((f) => f.name));
    })();
    return await withDeadline(work, limits.timeoutMs + 1000, () => conn.destroy());
  } catch (e) {
    throw classify(e, limits.timeoutMs);
  } finally {
    conn.destroy();
  }
}
