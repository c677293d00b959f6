/**
 * A small MySQL/MariaDB client over cloudflare:sockets: the handshake (mysql_native_password and
 * caching_sha2_password, with STARTTLS or RSA for its full authentication), COM_QUERY and the
 * text result set. It exists because mysql2 on Workers costs ~400 KiB gzipped of bundle (charset
 * tables, SSL profiles) against a 1 MiB budget, and only this much of the protocol is needed.
 * No multi-statements capability is announced, so the server runs one statement per query.
 */
import { sourceError } from './util';

const CLIENT = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  PROTOCOL_41: 0x200,
  SSL: 0x800,
  TRANSACTIONS: 0x2000,
  SECURE_CONNECTION: 0x8000,
  PLUGIN_AUTH: 0x80000,
};
const UTF8MB4_GENERAL_CI = 45;
const MAX_PACKET = 16 * 1024 * 1024 - 1;

export class MysqlServerError extends Error {
  constructor(
    readonly errno: number,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

export interface MysqlConnectOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  ssl?: boolean;
}

export interface MysqlColumn {
  name: string;
  type: number;
  charset: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const xor = (a: Uint8Array, b: Uint8Array) => a.map((x, i) => x ^ b[i % b.length]);

async function digest(alg: 'SHA-1' | 'SHA-256', ...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(alg, concat(...parts)));
}

/** The auth response of a plugin for a password and the server's 20-byte scramble. */
export async function scramblePassword(plugin: string, password: string, scramble: Uint8Array): Promise<Uint8Array> {
  if (!password) return new Uint8Array(0);
  const pw = encoder.encode(password);
  if (plugin === 'mysql_native_password') {
    const h1 = await digest('SHA-1', pw);
    const h2 = await digest('SHA-1', h1);
    return xor(h1, await digest('SHA-1', scramble, h2));
  }
  if (plugin === 'caching_sha2_password') {
    const h1 = await digest('SHA-256', pw);
    const h2 = await digest('SHA-256', h1);
    return xor(h1, await digest('SHA-256', h2, scramble));
  }
  throw sourceError(`MySQL: the server asks for the ${plugin} authentication plugin, which is not supported`);
}

/** Reads a packet payload field by field. */
class Cursor {
  at = 0;
  constructor(readonly buf: Uint8Array) {}
  u8() {
    return this.buf[this.at++];
  }
  u16() {
    const v = this.buf[this.at] | (this.buf[this.at + 1] << 8);
    this.at += 2;
    return v;
  }
  u32() {
    const v = (this.buf[this.at] | (this.buf[this.at + 1] << 8) | (this.buf[this.at + 2] << 16)) + this.buf[this.at + 3] * 2 ** 24;
    this.at += 4;
    return v;
  }
  bytes(n: number) {
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  nulString() {
    let end = this.buf.indexOf(0, this.at);
    if (end < 0) end = this.buf.length;
    const s = decoder.decode(this.buf.subarray(this.at, end));
    this.at = end + 1;
    return s;
  }
  /** A length-encoded integer; null for 0xFB (NULL in a row). */
  lenenc(): number | null {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfb) return null;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) {
      const v = this.buf[this.at] | (this.buf[this.at + 1] << 8) | (this.buf[this.at + 2] << 16);
      this.at += 3;
      return v;
    }
    const lo = this.u32();
    const hi = this.u32();
    return hi * 2 ** 32 + lo;
  }
  lenencBytes(): Uint8Array | null {
    const n = this.lenenc();
    return n === null ? null : this.bytes(n);
  }
  lenencString(): string | null {
    const b = this.lenencBytes();
    return b === null ? null : decoder.decode(b);
  }
  rest() {
    return this.buf.subarray(this.at);
  }
}

function serverError(payload: Uint8Array): MysqlServerError {
  const c = new Cursor(payload);
  c.u8();
  const errno = c.u16();
  let sqlState = '';
  if (payload[c.at] === 0x23) {
    c.u8();
    sqlState = decoder.decode(c.bytes(5));
  }
  return new MysqlServerError(errno, sqlState, decoder.decode(c.rest()));
}

const isEof = (p: Uint8Array) => p[0] === 0xfe && p.length < 9;

// Column types converted to JSON numbers; the others (DECIMAL, BIGINT beyond 2^53, dates, text) stay strings.
const INTEGER_TYPES = new Set([1, 2, 3, 9, 13]);
const FLOAT_TYPES = new Set([4, 5]);
const LONGLONG = 8;

function cellValue(raw: Uint8Array | null, column: MysqlColumn): unknown {
  if (raw === null) return null;
  const text = decoder.decode(raw);
  if (INTEGER_TYPES.has(column.type) || FLOAT_TYPES.has(column.type)) return Number(text);
  if (column.type === LONGLONG) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  return text;
}

/** `?` placeholders (outside quotes and comments) replaced by escaped literals. */
export function interpolate(sql: string, params: unknown[]): string {
  let out = '';
  let next = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < sql.length && sql[j] !== c) j += sql[j] === '\\' ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      out += sql.slice(i, end < 0 ? sql.length : end);
      i = end < 0 ? sql.length : end - 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      out += sql.slice(i, end < 0 ? sql.length : end + 2);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '?') {
      if (next >= params.length) throw new MysqlServerError(0, 'HY000', `the query has more placeholders than the ${params.length} params given`);
      out += literal(params[next++]);
    } else out += c;
  }
  if (next < params.length) throw new MysqlServerError(0, 'HY000', `the query has ${next} placeholders but ${params.length} params were given`);
  return out;
}

const ESCAPES: Record<string, string> = { '\0': '\\0', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\t': '\\t', '\x1a': '\\Z', "'": "\\'", '"': '\\"', '\\': '\\\\' };

function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new MysqlServerError(0, 'HY000', 'params must be finite numbers');
    return String(v);
  }
  return `'${String(v).replace(/[\0\n\r\b\t\x1a'"\\]/g, (ch) => ESCAPES[ch])}'`;
}

export class MysqlConnection {
  private buffer: Uint8Array = new Uint8Array(0);
  private seq = 0;
  private closed = false;
  serverVersion = '';

  private constructor(
    private socket: Socket,
    private reader: ReadableStreamDefaultReader<Uint8Array>,
    private writer: WritableStreamDefaultWriter<Uint8Array>,
  ) {}

  static async connect(options: MysqlConnectOptions): Promise<MysqlConnection> {
    const { connect } = await import('cloudflare:sockets');
    const socket = connect({ hostname: options.host, port: options.port }, { secureTransport: options.ssl ? 'starttls' : 'off', allowHalfOpen: false });
    await socket.opened;
    const conn = new MysqlConnection(socket, socket.readable.getReader(), socket.writable.getWriter());
    try {
      await conn.handshake(options);
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  }

  private async fill(n: number) {
    while (this.buffer.length < n) {
      const { done, value } = await this.reader.read();
      if (done) throw sourceError('MySQL: the server closed the connection');
      this.buffer = concat(this.buffer, value);
    }
  }

  private async readPacket(): Promise<Uint8Array> {
    await this.fill(4);
    const len = this.buffer[0] | (this.buffer[1] << 8) | (this.buffer[2] << 16);
    this.seq = (this.buffer[3] + 1) & 0xff;
    await this.fill(4 + len);
    const payload = this.buffer.slice(4, 4 + len);
    this.buffer = this.buffer.slice(4 + len);
    if (len === MAX_PACKET) throw sourceError('MySQL: packets over 16 MiB are not supported');
    return payload;
  }

  private async writePacket(payload: Uint8Array) {
    const header = new Uint8Array([payload.length & 0xff, (payload.length >> 8) & 0xff, (payload.length >> 16) & 0xff, this.seq]);
    this.seq = (this.seq + 1) & 0xff;
    await this.writer.write(concat(header, payload));
  }

  private async handshake(o: MysqlConnectOptions) {
    const hello = await this.readPacket();
    if (hello[0] === 0xff) throw serverError(hello);
    const c = new Cursor(hello);
    if (c.u8() !== 10) throw sourceError('MySQL: unsupported protocol version');
    this.serverVersion = c.nulString();
    c.u32();
    const part1 = c.bytes(8);
    c.u8();
    let caps = c.u16();
    c.u8();
    c.u16();
    caps |= c.u16() << 16;
    const authLen = c.u8();
    c.bytes(10);
    const part2 = c.bytes(Math.max(13, authLen - 8));
    let plugin = caps & CLIENT.PLUGIN_AUTH ? c.nulString() : 'mysql_native_password';
    let scramble = concat(part1, part2.subarray(0, 12));

    let flags = CLIENT.LONG_PASSWORD | CLIENT.FOUND_ROWS | CLIENT.LONG_FLAG | CLIENT.CONNECT_WITH_DB | CLIENT.PROTOCOL_41 | CLIENT.TRANSACTIONS | CLIENT.SECURE_CONNECTION | CLIENT.PLUGIN_AUTH;
    const fixed = () => {
      const b = new Uint8Array(32);
      new DataView(b.buffer).setUint32(0, flags, true);
      new DataView(b.buffer).setUint32(4, MAX_PACKET, true);
      b[8] = UTF8MB4_GENERAL_CI;
      return b;
    };
    let tls = false;
    if (o.ssl) {
      if (!(caps & CLIENT.SSL)) throw sourceError('MySQL: the server does not support TLS');
      flags |= CLIENT.SSL;
      await this.writePacket(fixed());
      this.reader.releaseLock();
      this.writer.releaseLock();
      this.socket = this.socket.startTls();
      this.reader = this.socket.readable.getReader();
      this.writer = this.socket.writable.getWriter();
      tls = true;
    }
    const auth = await scramblePassword(plugin, o.password, scramble);
    await this.writePacket(
      concat(fixed(), encoder.encode(o.user + '\0'), new Uint8Array([auth.length]), auth, encoder.encode(o.database + '\0'), encoder.encode(plugin + '\0')),
    );

    for (;;) {
      const p = await this.readPacket();
      if (p[0] === 0x00) return;
      if (p[0] === 0xff) throw serverError(p);
      if (p[0] === 0xfe) {
        // Auth switch: another plugin, a new scramble.
        const sw = new Cursor(p);
        sw.u8();
        plugin = sw.nulString();
        scramble = sw.rest().subarray(0, 20);
        await this.writePacket(await scramblePassword(plugin, o.password, scramble));
      } else if (p[0] === 0x01 && plugin === 'caching_sha2_password') {
        if (p[1] === 0x03) continue; // fast auth succeeded; the OK follows
        if (p[1] === 0x04) {
          // Full authentication: the password in clear over TLS, else RSA-encrypted with the server's key.
          if (tls) await this.writePacket(encoder.encode(o.password + '\0'));
          else {
            await this.writePacket(new Uint8Array([0x02]));
            const keyPacket = await this.readPacket();
            if (keyPacket[0] === 0xff) throw serverError(keyPacket);
            await this.writePacket(await rsaEncryptPassword(decoder.decode(keyPacket.subarray(1)), o.password, scramble));
          }
        } else {
          // The public key itself (answer to 0x02) is handled above; anything else is unexpected.
          throw sourceError('MySQL: unexpected authentication message');
        }
      } else throw sourceError('MySQL: unexpected authentication message');
    }
  }

  /** Runs one statement; rows past `maxRows + 1` are not read (the connection is closed after). */
  async query(sql: string, maxRows = Infinity): Promise<{ columns: MysqlColumn[]; rows: Record<string, unknown>[] }> {
    this.seq = 0;
    await this.writePacket(concat(new Uint8Array([0x03]), encoder.encode(sql)));
    const first = await this.readPacket();
    if (first[0] === 0xff) throw serverError(first);
    if (first[0] === 0x00) return { columns: [], rows: [] };
    const count = new Cursor(first).lenenc() ?? 0;
    const columns: MysqlColumn[] = [];
    for (let i = 0; i < count; i++) {
      const c = new Cursor(await this.readPacket());
      for (let k = 0; k < 4; k++) c.lenencBytes(); // catalog, schema, table, org_table
      const name = c.lenencString() ?? '';
      c.lenencBytes(); // org_name
      c.lenenc();
      const charset = c.u16();
      c.u32();
      columns.push({ name, type: c.u8(), charset });
    }
    const eof = await this.readPacket();
    if (!isEof(eof)) throw sourceError('MySQL: malformed result set');
    const rows: Record<string, unknown>[] = [];
    for (;;) {
      const p = await this.readPacket();
      if (isEof(p)) break;
      if (p[0] === 0xff) throw serverError(p);
      const c = new Cursor(p);
      rows.push(Object.fromEntries(columns.map((col) => [col.name, cellValue(c.lenencBytes(), col)])));
      if (rows.length > maxRows) break;
    }
    return { columns, rows };
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    // A pending read rejects when the socket closes; nothing is waiting for it any more.
    this.reader.cancel().catch(() => {});
    this.socket.close().catch(() => {});
  }
}

/** caching_sha2_password full auth without TLS: (password + NUL) XOR scramble, RSA-OAEP (SHA-1) with the server's key. */
async function rsaEncryptPassword(pem: string, password: string, scramble: Uint8Array): Promise<Uint8Array> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  const key = await crypto.subtle.importKey('spki', der, { name: 'RSA-OAEP', hash: 'SHA-1' }, false, ['encrypt']);
  return new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, key, xor(encoder.encode(password + '\0'), scramble)));
}
