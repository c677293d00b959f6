import type { Env } from '../../env';
import { checkOutboundSocket } from '../../lib/outbound';
import type { QueryLimits, QueryResult, TestResult } from './types';
import { errorText, queryError, queryTimeout, sourceError, tabulate, withDeadline } from './util';

export interface SqlConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  ssl?: boolean;
}
export interface SqlCredentials {
  password?: string;
}
export interface SqlQuery {
  sql: string;
  params?: unknown[];
}

/**
 * A plain TCP connection through nodejs_compat's node:net (cloudflare:sockets underneath).
 * postgres.js's own Workers socket shim rejects an unhandled "socket has been closed" when the
 * connection ends; node:net closes cleanly. TLS connections use the shim (it does STARTTLS).
 */
async function plainSocket(host: string, port: number, timeoutMs: number) {
  const net = await import('node:net');
  return new Promise<unknown>((resolve, reject) => {
    const socket = net.connect(port, host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(sourceError(`Could not connect to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(sourceError(`Could not connect to ${host}:${port}: ${e.message}`));
    });
  });
}

type Sql = import('postgres').Sql;

async function open(env: Env, config: SqlConfig, credentials: SqlCredentials, timeoutMs: number): Promise<Sql> {
  checkOutboundSocket(env, config.host, config.port);
  // Loaded on first use: the driver is not part of worker start-up.
  const { default: postgres } = await import('postgres');
  return postgres({
    host: config.host,
    port: config.port,
    database: config.database,
    username: config.user,
    password: credentials.password ?? '',
    ssl: config.ssl ? 'require' : false,
    socket: config.ssl ? undefined : () => plainSocket(config.host, config.port, timeoutMs),
    max: 1,
    prepare: false,
    fetch_types: false,
    connect_timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
    idle_timeout: 1,
    onnotice: () => {},
    // Every transaction of this session starts read-only, even one a statement would open after COMMIT.
    connection: { application_name: 'tiangong', default_transaction_read_only: 'on' },
  } as never);
}

function classify(e: unknown, timeoutMs: number): Error {
  // 57014 query_canceled: statement_timeout fired on the server.
  if (e && typeof e === 'object' && (e as { code?: string }).code === '57014') return queryTimeout(timeoutMs);
  if (e && typeof e === 'object' && 'severity' in e) return queryError(`PostgreSQL: ${errorText(e)}`);
  if (e instanceof Error && 'status' in e) return e;
  return sourceError(`PostgreSQL: ${errorText(e)}`);
}

export async function testPostgres(env: Env, config: SqlConfig, credentials: SqlCredentials, limits: QueryLimits): Promise<TestResult> {
  const sql = await open(env, config, credentials, limits.timeoutMs);
  try {
    const [row] = await withDeadline(sql.unsafe('SELECT version() AS version'), limits.timeoutMs, () => sql.end({ timeout: 0 }));
    return { ok: true, server: String(row.version) };
  } catch (e) {
    throw classify(e, limits.timeoutMs);
  } finally {
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}

/**
 * Runs one statement in a READ ONLY transaction, so the server refuses any write whatever the
 * SQL says. The extended protocol (`simple: false`) takes exactly one statement, so
 * `COMMIT; DELETE ...` cannot step out of the transaction; `SELECT 1` first fixes the snapshot,
 * after which `SET TRANSACTION READ WRITE` is refused too. Rows come through a cursor of
 * max_rows + 1, so a huge result is never fetched; statement_timeout stops the server-side work.
 */
export async function queryPostgres(env: Env, config: SqlConfig, credentials: SqlCredentials, query: SqlQuery, limits: QueryLimits): Promise<QueryResult> {
  const sql = await open(env, config, credentials, limits.timeoutMs);
  try {
    const work = sql.begin('read only', async (tx) => {
      await tx.unsafe(`SET LOCAL statement_timeout = ${Math.floor(limits.timeoutMs)}`);
      await tx.unsafe('SELECT 1');
      const rows: Record<string, unknown>[] = [];
      let columns: string[] | undefined;
      const cursor = tx.unsafe(query.sql, (query.params ?? []) as never[], { simple: false } as never).cursor(limits.maxRows + 1);
      for await (const batch of cursor) {
        rows.push(...(batch as unknown as Record<string, unknown>[]));
        columns ??= (batch as unknown as { columns?: Array<{ name: string }> }).columns?.map((c) => c.name);
        if (rows.length > limits.maxRows) break;
      }
      return tabulate(rows, limits.maxRows, columns);
    });
    return await withDeadline(work, limits.timeoutMs + 1000, () => sql.end({ timeout: 0 }));
  } catch (e) {
    throw classify(e, limits.timeoutMs);
  } finally {
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}
