/**
 * The one SSE writer: `id:`, `event:` and `data:` lines per event, as `text/event-stream`.
 * Writing after the client went away is a no-op, so producers never fail on a closed stream.
 */
export class SseWriter {
  readonly readable: ReadableStream<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly encoder = new TextEncoder();
  private closed = false;

  constructor() {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    this.readable = readable;
    this.writer = writable.getWriter();
  }

  async send(event: string, data: unknown, id?: string | number): Promise<void> {
    if (this.closed) return;
    let frame = '';
    if (id !== undefined) frame += `id: ${id}\n`;
    frame += `event: ${event}\n`;
    for (const line of JSON.stringify(data).split('\n')) frame += `data: ${line}\n`;
    frame += '\n';
    try {
      await this.writer.write(this.encoder.encode(frame));
    } catch {
      this.closed = true;
    }
  }

  /**
   * A bare `data:` event with no `event:`/`id:` lines — the OpenAI streaming wire format, whose
   * clients read only `data:` (JSON, or the literal `[DONE]` passed as a string).
   */
  async data(payload: unknown): Promise<void> {
    if (this.closed) return;
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    try {
      await this.writer.write(this.encoder.encode(`data: ${text}\n\n`));
    } catch {
      this.closed = true;
    }
  }

  /** A comment line, to keep intermediaries from closing an idle stream. */
  async ping(): Promise<void> {
    if (this.closed) return;
    await this.writer.write(this.encoder.encode(': ping\n\n')).catch(() => (this.closed = true));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close().catch(() => undefined);
  }

  response(init: ResponseInit = {}): Response {
    const headers = new Headers(init.headers);
    headers.set('Content-Type', 'text/event-stream; charset=utf-8');
    headers.set('Cache-Control', 'no-cache, no-transform');
    headers.set('X-Accel-Buffering', 'no');
    return new Response(this.readable, { ...init, headers });
  }
}

/** Parses an SSE body into events (for tests and for clients of upstream SSE). */
export function parseSse(text: string): Array<{ id?: string; event: string; data: string }> {
  const events: Array<{ id?: string; event: string; data: string }> = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length || event !== 'message') events.push({ id, event, data: data.join('\n') });
  }
  return events;
}

/**
 * Reads an SSE byte stream incrementally and yields each event's `data` (multi-line data joined
 * with `\n`), for consuming upstream streams (model providers) as they arrive.
 */
export async function* readSseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      finished = done;
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r?\n/)) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer[newline] === '\r' ? 2 : 1));
        if (line === '') {
          if (data.length) yield data.join('\n');
          data = [];
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).replace(/^ /, ''));
        }
        // Comments (`:`), `event:`, `id:` and `retry:` lines carry nothing the callers use.
      }
      if (done) break;
    }
    if (buffer.startsWith('data:')) data.push(buffer.slice(5).replace(/^ /, ''));
    if (data.length) yield data.join('\n');
  } finally {
    // A consumer that stops early (or fails) cancels the upstream instead of leaving it open.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
