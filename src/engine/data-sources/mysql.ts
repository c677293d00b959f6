import type { Env } from '../../env';
import { checkOutboundSocket } from '../../lib/outbound';
import { interpolate, MysqlConnection, MysqlServerError } from './mysql-protocol';
import type { SqlConfig, SqlCredentials, SqlQuery } from './postgres';
import type { QueryLimits, QueryResult, TestResult } from './types';
import { errorText, queryError, queryTimeout, sourceError, tabulate, withDeadline } from './util';

async function open(env: Env, config: SqlConfig, credentials: SqlCredentials, limits: QueryLimits): Promise<MysqlConnection> {
  checkOutboundSocket(env, config.host, config.port);
  const connecting = MysqlConnection.connect({ host: config.host, port: config.port, user: config.user, password: credentials.password ?? '', database: config.database, ssl: config.ssl });
  try {
    return await withDeadline(connecting, limits.timeoutMs, () => connecting.then((c) => c.close(), () => {}));
  } catch (e) {
    if (e instanceof MysqlServerError) throw sourceError(`MySQL: ${e.message}`);
    if (e instanceof Error && 'status' in e) throw e.message.startsWith('MySQL') || (e as { code?: string }).code === 'QUERY_TIMEOUT' ? e : sourceError(`MySQL: ${e.message}`);
    throw sourceError(`MySQL: could not connect to ${config.host}:${config.port}: ${errorText(e)}`);
  }
}

function classify(e: unknown, timeoutMs: number): Error {
  if (e instanceof MysqlServerError) {
    // 1969: MariaDB's max_statement_time, 3024: MySQL's max_execution_time.
    if (e.errno === 1969 || e.errno === 3024) return queryTimeout(timeoutMs);
    return queryError(`MySQL: ${e.message}`);
  }
  if (e instanceof Error && 'status' in e) return e;
  return sourceError(`MySQL: ${errorText(e)}`);
}

export async function testMysql(env: Env, config: SqlConfig, credentials: SqlCredentials, limits: QueryLimits): Promise<TestResult> {
  const conn = await open(env, config, credentials, limits);
  try {
    const { rows } = await withDeadline(conn.query('SELECT VERSION() AS version'), limits.timeoutMs, () => conn.close());
    return { ok: true, server: `MySQL ${String(rows[0]?.version ?? conn.serverVersion)}` };
  } catch (e) {
    throw classify(e, limits.timeoutMs);
  } finally {
    conn.close();
  }
}

/**
 * One statement in `START TRANSACTION READ ONLY` (the server refuses writes; the client never
 * announces multi-statements, so the transaction cannot be left). `sql_select_limit` makes the
 * server stop at max_rows + 1; `max_statement_time` (MariaDB) or `max_execution_time` (MySQL)
 * bounds the server's work, and the connection is closed at the deadline either way.
 */
export async function queryMysql(env: Env, config: SqlConfig, credentials: SqlCredentials, query: SqlQuery, limits: QueryLimits): Promise<QueryResult> {
  const conn = await open(env, config, credentials, limits);
  try {
    const work = (async () => {
      const sql = interpolate(query.sql, query.params ?? []);
      await conn.query(`SET SESSION sql_select_limit = ${limits.maxRows + 1}`);
      await conn.query(`SET SESSION max_statement_time = ${limits.timeoutMs / 1000}`).catch(() => conn.query(`SET SESSION max_execution_time = ${Math.floor(limits.timeoutMs)}`).catch(() => {}));
      await conn.query('START TRANSACTION READ ONLY');
      const { columns, rows } = await conn.query(sql, limits.maxRows);
      return tabulate(rows, limits.maxRows, columns.map((c) => c.name));
    })();
    return await withDeadline(work, limits.timeoutMs + 1000, () => conn.close());
  } catch (e) {
    throw classify(e, limits.timeoutMs);
  } finally {
    conn.close();
  }
}
