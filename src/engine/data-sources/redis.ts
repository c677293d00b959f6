import type { Env } from '../../env';
import { checkOutboundSocket } from '../../lib/outbound';
import type { QueryLimits, QueryResult, TestResult } from './types';
import { errorText, queryError, sourceError, withDeadline } from './util';

export interface RedisConfig {
  host: string;
  port: number;
  database?: number;
  user?: string;
  tls?: boolean;
}
export interface RedisCredentials {
  password?: string;
}
export interface RedisQuery {
  command: string;
  args?: string[];
}

export type RespValue = string | number | null | RespValue[] | RespError;
export class RespError {
  constructor(readonly message: string) {}
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A command as a RESP array of bulk strings. */
export function encodeCommand(parts: string[]): Uint8Array {
  let out = `*${parts.length}\r\n`;
  for (const p of parts) out += `$${encoder.encode(p).byteLength}\r\n${p}\r\n`;
  return encoder.encode(out);
}

/**
 * Incremental RESP2 parser: `feed` bytes as they arrive, `next()` returns a complete value or
 * undefined when more bytes are needed.
 */
export class RespParser {
  private buf = new Uint8Array(0);

  feed(chunk: Uint8Array) {
    const merged = new Uint8Array(this.buf.length + chunk.length);
    merged.set(this.buf);
    merged.set(chunk, this.buf.length);
    this.buf = merged;
  }

  next(): RespValue | undefined {
    const parsed = this.parse(0);
    if (!parsed) return undefined;
    this.buf = this.buf.slice(parsed.end);
    return parsed.value;
  }

  private line(at: number): { text: string; end: number } | null {
    for (let i = at; i + 1 < this.buf.length; i++) {
      if (this.buf[i] === 13 && this.buf[i + 1] === 10) return { text: decoder.decode(this.buf.subarray(at, i)), end: i + 2 };
    }
    return null;
  }

  private parse(at: number): { value: RespValue; end: number } | null {
    const head = this.line(at);
    if (!head) return null;
    const type = head.text[0];
    const rest = head.text.slice(1);
    switch (type) {
      case '+':
        return { value: rest, end: head.end };
      case '-':
        return { value: new RespError(rest), end: head.end };
      case ':':
        return { value: Number(rest), end: head.end };
      case '$': {
        const len = Number(rest);
        if (len < 0) return { value: null, end: head.end };
        if (this.buf.length < head.end + len + 2) return null;
        return { value: decoder.decode(this.buf.subarray(head.end, head.end + len)), end: head.end + len + 2 };
      }
      case '*': {
        const n = Number(rest);
        if (n < 0) return { value: null, end: head.end };
        const items: RespValue[] = [];
        let end = head.end;
        for (let i = 0; i < n; i++) {
          const item = this.parse(end);
          if (!item) return null;
          items.push(item.value);
          end = item.end;
        }
        return { value: items, end };
      }
      default:
        throw new Error(`Unexpected RESP type byte ${JSON.stringify(type)}`);
    }
  }
}

/** One connection over cloudflare:sockets; commands are sent and answered one at a time. */
class RedisConnection {
  private parser = new RespParser();
  private closed = false;

  private constructor(
    private socket: Socket,
    private reader: ReadableStreamDefaultReader<Uint8Array>,
    private writer: WritableStreamDefaultWriter<Uint8Array>,
  ) {}

  static async open(config: RedisConfig): Promise<RedisConnection> {
    const { connect } = await import('cloudflare:sockets');
    const socket = connect({ hostname: config.host, port: config.port }, { secureTransport: config.tls ? 'on' : 'off', allowHalfOpen: false });
    await socket.opened;
    return new RedisConnection(socket, socket.readable.getReader(), socket.writable.getWriter());
  }

  async call(parts: string[]): Promise<RespValue> {
    await this.writer.write(encodeCommand(parts));
    for (;;) {
      const value = this.parser.next();
      if (value !== undefined) return value;
      const { done, value: chunk } = await this.reader.read();
      if (done) throw new Error('connection closed by the server');
      this.parser.feed(chunk);
    }
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    // A pending read rejects when the socket closes; nothing is waiting for it any more.
    this.reader.cancel().catch(() => {});
    this.socket.close().catch(() => {});
  }
}

async function connectAuthenticated(env: Env, config: RedisConfig, credentials: RedisCredentials): Promise<RedisConnection> {
  checkOutboundSocket(env, config.host, config.port);
  let conn: RedisConnection;
  try {
    conn = await RedisConnection.open(config);
  } catch (e) {
    throw sourceError(`Redis: could not connect to ${config.host}:${config.port}: ${errorText(e)}`);
  }
  try {
    if (credentials.password) {
      const auth = await conn.call(config.user ? ['AUTH', config.user, credentials.password] : ['AUTH', credentials.password]);
      if (auth instanceof RespError) throw sourceError(`Redis: ${auth.message}`);
    }
    if (config.database) {
      const sel = await conn.call(['SELECT', String(config.database)]);
      if (sel instanceof RespError) throw sourceError(`Redis: ${sel.message}`);
    }
    return conn;
  } catch (e) {
    conn.close();
    throw e instanceof Error && 'status' in e ? e : sourceError(`Redis: ${errorText(e)}`);
  }
}

function plain(v: RespValue): unknown {
  if (v instanceof RespError) return { error: v.message };
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

export async function testRedis(env: Env, config: RedisConfig, credentials: RedisCredentials, limits: QueryLimits): Promise<TestResult> {
  const conn = await connectAuthenticated(env, config, credentials);
  try {
    const info = await withDeadline(conn.call(['INFO', 'server']), limits.timeoutMs, () => conn.close());
    const version = typeof info === 'string' ? info.match(/redis_version:(\S+)/)?.[1] : undefined;
    return { ok: true, server: version ? `Redis ${version}` : 'Redis' };
  } finally {
    conn.close();
  }
}

/**
 * Runs one command if the server itself classifies it as read-only: `COMMAND INFO` returns the
 * command's flags, and only commands flagged `readonly` and not `write`, `admin`, `pubsub` or
 * `blocking` run. (Redis has no read-only transaction; the server's own command table is the
 * authority, not a list kept here.) Arrays become one row per element; hashes' flat field/value
 * replies stay one row per element too.
 */
export async function queryRedis(env: Env, config: RedisConfig, credentials: RedisCredentials, query: RedisQuery, limits: QueryLimits): Promise<QueryResult> {
  const conn = await connectAuthenticated(env, config, credentials);
  try {
    const work = (async () => {
      const name = query.command.trim().toLowerCase();
      const info = await conn.call(['COMMAND', 'INFO', name]);
      const entry = Array.isArray(info) ? info[0] : null;
      if (!Array.isArray(entry)) throw queryError(`Redis: unknown command "${query.command}"`);
      const flags = (Array.isArray(entry[2]) ? entry[2] : []).map(String);
      const refused = ['write', 'admin', 'pubsub', 'blocking', 'noscript'].filter((f) => flags.includes(f));
      if (!flags.includes('readonly') || refused.length) {
        throw queryError(`Redis: "${name}" is not a read-only command (flags: ${flags.join(', ') || 'none'}); data sources are read-only`);
      }
      const reply = await conn.call([name, ...(query.args ?? [])]);
      if (reply instanceof RespError) throw queryError(`Redis: ${reply.message}`);
      const values = Array.isArray(reply) ? reply : [reply];
      const truncated = values.length > limits.maxRows;
      const rows = values.slice(0, limits.maxRows).map((value, index) => ({ index, value: plain(value) }));
      return { columns: ['index', 'value'], rows, row_count: rows.length, truncated } satisfies QueryResult;
    })();
    return await withDeadline(work, limits.timeoutMs, () => conn.close());
  } finally {
    conn.close();
  }
}
