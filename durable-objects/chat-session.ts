import { DurableObject } from 'cloudflare:workers';
import type { AgentEvent } from '../src/engine/agent/loop';
import { CallRecorder } from '../src/engine/llm/gateway';
import type { ChatMessage, ToolCall, Usage } from '../src/engine/llm/types';
import type { Env } from '../src/env';
import { ApiError } from '../src/lib/errors';
import { SseWriter } from '../src/lib/sse';
import { runAgent } from '../src/runs/agent-turn';
import { readSessionMessages, saveTurn, type StoredMessage } from '../src/runs/conversation';
import { flushCalls } from '../src/runs/llm-calls';
import { RESUME_WINDOW_MS, type TurnOutcome, type TurnRequest, type TurnResult } from './contracts';

interface LiveTurn {
  turn: number;
  subscribers: Set<SseWriter>;
}


const toChatMessage = (m: StoredMessage): ChatMessage => ({
  role: m.role,
  content: m.content,
  ...(m.tool_calls ? { tool_calls: JSON.parse(m.tool_calls) as ToolCall[] } : {}),
  ...(m.tool_call_id ? { tool_call_id: m.tool_call_id } : {}),
  ...(m.name ? { name: m.name } : {}),
});

function failure(e: unknown): { status: number; code: string; message: string } {
  if (e instanceof ApiError) return { status: e.status, code: e.code, message: e.message };
  console.error(JSON.stringify({ type: 'error', where: 'chat turn', error: String(e), stack: (e as Error)?.stack }));
  return { status: 500, code: 'INTERNAL_ERROR', message: 'An unexpected error occurred' };
}

/**
 * One conversation (one per session id). It owns the history (its SQLite; D1 gets a copy of every
 * message for listing and monitoring), runs the agent loop, and runs turns strictly one after
 * the other. The events of streamed turns are kept (ids increase across the session) so a
 * client that reconnects with Last-Event-ID gets what it missed; a turn never depends on its
 * client staying connected.
 */
export class ChatSession extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Turns run in this chain, one at a time, in arrival order. */
  private tail: Promise<unknown> = Promise.resolve();
  private history: StoredMessage[] | null = null;
  /** The history as the model gets it (parsed once, not per turn). */
  private context: ChatMessage[] = [];
  private live: LiveTurn | null = null;
  private lastEventId = 0;
  private lastTurn = 0;
  private alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, role TEXT NOT NULL, content TEXT,
        tool_calls TEXT, tool_call_id TEXT, name TEXT)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS turns (turn INTEGER PRIMARY KEY, finished_at INTEGER)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, turn INTEGER NOT NULL, event TEXT NOT NULL, data TEXT NOT NULL)`);
      this.lastEventId = Number(this.meta('last_event_id') ?? 0);
      this.lastTurn = Number(this.meta('last_turn') ?? 0);
      // A turn that was running when the object was evicted or restarted cannot resume: its
      // stream ends with an error, so reconnecting clients are not left waiting.
      for (const { turn } of this.sql.exec<{ turn: number }>('SELECT turn FROM turns WHERE finished_at IS NULL').toArray()) {
        this.record(turn, 'error', { error: 'INTERRUPTED', message: 'The turn was interrupted; send the message again' });
        this.sql.exec('UPDATE turns SET finished_at = ? WHERE turn = ?', Date.now(), turn);
      }
    });
  }

  private meta(key: string): string | null {
    return this.sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value ?? null;
  }

  private setMeta(key: string, value: string | number) {
    this.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, String(value));
  }

  /** Runs `fn` after every turn queued before it. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** A non-streaming turn: the result once the turn (and the ones queued before it) are done. */
  async send(request: TurnRequest): Promise<TurnOutcome> {
    return this.enqueue(() => this.runTurn(request, null));
  }

  /**
   * `POST /stream` with a TurnRequest: an SSE stream of a new turn; with `Last-Event-ID`, the
   * events after that id of the turn it belongs to (then the rest live, if it is still running)
   * and no new turn.
   */
  override async fetch(request: Request): Promise<Response> {
    const body = (await request.json()) as TurnRequest;
    const lastEventId = request.headers.get('Last-Event-ID');
    const writer = new SseWriter();
    if (lastEventId !== null && lastEventId.trim() !== '') {
      const after = Number(lastEventId);
      const turn = Number.isInteger(after)
        ? this.sql.exec<{ turn: number }>('SELECT turn FROM events WHERE id = ?', after).toArray()[0]?.turn
        : undefined;
      if (turn === undefined) {
        return Response.json(
          { error: 'CONFLICT', message: `The events after Last-Event-ID ${lastEventId} are no longer kept; the conversation's messages are saved in the session` },
          { status: 409 },
        );
      }
      // Replay and subscribe in one synchronous step, so no event falls between the two.
      for (const e of this.sql.exec<{ id: number; event: string; data: string }>('SELECT id, event, data FROM events WHERE turn = ? AND id > ? ORDER BY id', turn, after)) {
        void writer.send(e.event, JSON.parse(e.data), e.id);
      }
      if (this.live?.turn === turn) this.live.subscribers.add(writer);
      else void writer.close();
      return writer.response();
    }
    void this.enqueue(() => this.runTurn(body, writer));
    return writer.response();
  }

  /** Forgets the session (its branch or agent was deleted). */
  async destroy(): Promise<void> {
    await this.enqueue(async () => {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.history = null;
      this.context = [];
      this.alarmSet = false;
      this.lastEventId = 0;
      this.lastTurn = 0;
    });
  }

  /** Drops the events of turns that finished more than RESUME_WINDOW_MS ago. */
  override async alarm(): Promise<void> {
    this.alarmSet = false;
    this.pruneEvents();
    const pending = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM turns').one().n;
    if (pending > 0) {
      this.alarmSet = true;
      await this.ctx.storage.setAlarm(Date.now() + RESUME_WINDOW_MS);
    }
  }

  private pruneEvents() {
    const before = Date.now() - RESUME_WINDOW_MS;
    this.sql.exec('DELETE FROM events WHERE turn IN (SELECT turn FROM turns WHERE finished_at IS NOT NULL AND finished_at < ?)', before);
    this.sql.exec('DELETE FROM turns WHERE finished_at IS NOT NULL AND finished_at < ?', before);
  }

  /** Stores an event of a turn and sends it to the turn's live subscribers. */
  private record(turn: number, event: string, data: unknown) {
    const id = ++this.lastEventId;
    this.sql.exec('INSERT INTO events (id, turn, event, data) VALUES (?, ?, ?, ?)', id, turn, event, JSON.stringify(data));
    this.setMeta('last_event_id', id);
    if (this.live?.turn === turn) for (const s of this.live.subscribers) void s.send(event, data, id);
  }

  /** The conversation so far, from this object's storage, or from D1 the first time (branches). */
  private async loadHistory(request: TurnRequest): Promise<StoredMessage[]> {
    if (this.history) return this.history;
    let rows = this.sql.exec<StoredMessage>('SELECT seq, id, role, content, tool_calls, tool_call_id, name FROM messages ORDER BY seq').toArray();
    if (rows.length === 0 && !request.new_session && this.meta('hydrated') === null) {
      rows = await readSessionMessages(this.env.DB, request.session_id);
      for (const m of rows) {
        this.sql.exec('INSERT INTO messages (seq, id, role, content, tool_calls, tool_call_id, name) VALUES (?, ?, ?, ?, ?, ?, ?)', m.seq, m.id, m.role, m.content, m.tool_calls, m.tool_call_id, m.name);
      }
    }
    this.setMeta('hydrated', 1);
    this.history = rows;
    this.context = rows.map(toChatMessage);
    return rows;
  }

  private async runTurn(request: TurnRequest, writer: SseWriter | null): Promise<TurnOutcome> {
    const stream = writer !== null;
    let turn = 0;
    if (stream) {
      turn = ++this.lastTurn;
      this.setMeta('last_turn', turn);
      this.pruneEvents();
      this.sql.exec('INSERT INTO turns (turn, finished_at) VALUES (?, NULL)', turn);
      this.live = { turn, subscribers: new Set([writer]) };
    }
    const emit = (event: string, data: unknown) => {
      if (stream) this.record(turn, event, data);
    };
    // The turn's model calls are written with its messages, in the same batch.
    const recorder = new CallRecorder();
    try {
      await this.loadHistory(request);
      const result = await runAgent({
        env: this.env,
        userId: request.user_id,
        agent: request.agent,
        message: request.message,
        history: this.context,
        stream,
        sessionId: request.session_id,
        source: 'chat',
        recorder,
        onEvent: (e: AgentEvent) => {
          if (e.type === 'token') emit('token', { text: e.text });
          else if (request.streamlined) return;
          else if (e.type === 'tool_call') emit('tool_call', { id: e.id, name: e.name, arguments: e.arguments });
          else emit('tool_result', { id: e.id, name: e.name, output: e.output, ...(e.error ? { error: e.error } : {}), duration_ms: e.duration_ms });
        },
      });
      const saved = await this.saveMessages(request, result.messages, result.token_usage, recorder);
      const outcome: TurnResult = {
        session_id: request.session_id,
        message_id: saved.at(-1)!.id,
        user_message_id: saved[0].id,
        reply: result.reply,
        tool_calls: result.tool_calls,
        token_usage: result.token_usage,
        iterations: result.iterations,
        finish_reason: result.finish_reason,
      };
      emit('done', {
        session_id: request.session_id,
        message_id: outcome.message_id,
        reply: outcome.reply,
        token_usage: outcome.token_usage,
        iterations: outcome.iterations,
        finish_reason: outcome.finish_reason,
      });
      return { ok: true, result: outcome };
    } catch (e) {
      const error = failure(e);
      // What the user said is kept even when the model failed.
      await this.saveMessages(request, [{ role: 'user', content: request.message }], null, recorder).catch((err) =>
        console.error(JSON.stringify({ type: 'error', where: 'chat save after failure', error: String(err) })),
      );
      emit('error', { error: error.code, message: error.message });
      return { ok: false, error };
    } finally {
      // Calls whose batch did not go through are written on their own (this object keeps
      // running the write after the answer).
      if (recorder.size) void flushCalls(this.env.DB, recorder);
      if (stream) {
        this.sql.exec('UPDATE turns SET finished_at = ? WHERE turn = ?', Date.now(), turn);
        for (const s of this.live?.subscribers ?? []) void s.close();
        this.live = null;
        if (!this.alarmSet) {
          this.alarmSet = true;
          if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + RESUME_WINDOW_MS);
        }
      }
    }
  }

  /**
   * Appends a turn's messages with the next dense seqs: to D1 first (one batch, with the
   * session's updated_at and the turn's `llm_calls` rows), then here. The final message carries
   * the turn's token usage.
   */
  private async saveMessages(request: TurnRequest, messages: ChatMessage[], usage: Usage | null, recorder: CallRecorder): Promise<StoredMessage[]> {
    const history = await this.loadHistory(request);
    let seq = history.at(-1)?.seq ?? 0;
    const rows: StoredMessage[] = messages.map((m) => ({
      seq: ++seq,
      id: crypto.randomUUID(),
      role: m.role,
      content: m.content,
      tool_calls: m.tool_calls?.length ? JSON.stringify(m.tool_calls) : null,
      tool_call_id: m.tool_call_id ?? null,
      name: m.name ?? null,
    }));
    await saveTurn(this.env.DB, request.session_id, rows, usage, recorder);
    for (const r of rows) {
      this.sql.exec('INSERT INTO messages (seq, id, role, content, tool_calls, tool_call_id, name) VALUES (?, ?, ?, ?, ?, ?, ?)', r.seq, r.id, r.role, r.content, r.tool_calls, r.tool_call_id, r.name);
    }
    history.push(...rows);
    this.context.push(...rows.map(toChatMessage));
    return rows;
  }
}
