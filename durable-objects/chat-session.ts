import { DurableObject } from 'cloudflare:workers';
import type { AgentEvent, TurnStep } from '../src/engine/agent/loop';
import type { CallRecorder, ModelTarget } from '../src/engine/llm/gateway';
import type { ChatMessage, ToolCall, Usage } from '../src/engine/llm/types';
import type { Env } from '../src/env';
import { ApiError } from '../src/lib/errors';
import { SseWriter } from '../src/lib/sse';
import type { AdmittedTurn } from '../src/runs/chat-admission';
import type { StoredMessage } from '../src/runs/conversation';
import type { TurnAgent } from '../src/runs/types';
import {
  DEFAULT_MULTITASK_STRATEGY,
  RESUME_WINDOW_MS,
  type MultitaskStrategy,
  RUNNING_TURN_HEADER,
  type TurnOutcome,
  type TurnRequest,
  type TurnResult,
} from './contracts';

/** The agent loop, the model gateway and the session's D1 writes, imported when an object first runs a turn (not at startup). */
const turns = () => import('./chat-session-turns');

interface LiveTurn {
  turn: number;
  subscribers: Set<SseWriter>;
}

/** A turn admitted and not yet finished (running, or waiting its turn). */
interface TurnEntry {
  /** The turn's id: the id its user message gets. */
  id: string;
  /** Aborted when a newer message interrupts or rolls back the turn. */
  controller: AbortController;
  stoppedBy: 'interrupt' | 'rollback' | null;
}

/** A message whose checks passed, with the agent that answers it (what `active_turn` keeps). */
type RunRequest = TurnRequest & { agent: TurnAgent | null };

/**
 * What the object knows of its session from the last message it admitted: whose it is and its
 * agent then. A message of that user for that agent starts its turn before its checks return.
 */
interface KnownSession {
  user_id: string;
  agent: TurnAgent | null;
}

/**
 * A turn started before its checks returned (`admitChatTurn` beside the first model call): its
 * events are held until they pass; no tool runs and nothing is saved before.
 */
interface EarlyStart {
  /** The model the turn starts with (the one the object resolved for this agent last). */
  target: ModelTarget;
  /** The checks' answer: null when they passed with the agent and model the turn started with. */
  checked: Promise<null | { refused: unknown } | { changed: TurnAgent | null }>;
  /** Stops the early model call when the checks refuse or the agent changed. */
  controller: AbortController;
  held: { events: Array<[string, unknown]> } | null;
}

/** Thrown into an early turn's loop when its checks did not let it go on. */
class EarlyStartEnded extends Error {}

const knownKey = (userId: string, agent: TurnAgent | null) => JSON.stringify({ user_id: userId, agent } satisfies KnownSession);

const sameTarget = (a: ModelTarget, b: ModelTarget) =>
  a.provider === b.provider && a.model_name === b.model_name && a.temperature === b.temperature && a.max_tokens === b.max_tokens && a.base_url === b.base_url && a.api_key === b.api_key;

/** The turn that was running when the object last stopped (its row in `active_turn`). */
type ActiveTurn = {
  turn_id: string;
  /** The turn's number among streamed turns (its events), 0 for a non-streamed turn. */
  stream_turn: number;
  request: string;
};

/** Whether a newer message rolled the turn back (it may happen at any await of the turn). */
const rolledBackTurn = (entry: TurnEntry) => entry.stoppedBy === 'rollback';

/**
 * While a turn runs the object's alarm is kept this close: if the object is evicted or the
 * runtime restarts mid-turn, the alarm wakes it up to resume the turn (a reconnect does sooner).
 */
const TURN_HEARTBEAT_MS = 15_000;

const ROLLED_BACK = { status: 409, code: 'TURN_ROLLED_BACK', message: 'A newer message rolled this turn back: nothing of it was saved' };


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
  /** Admitted turns not yet finished, in order: the first is the running one. */
  private turns: TurnEntry[] = [];
  /** The turn to resume, found at start-up, until something starts it. */
  private resumable: ActiveTurn | null = null;
  /** When the object's alarm is set to fire (null: none), kept so a turn sets it only when it must. */
  private alarmAt: number | null = null;
  /** Messages whose checks are running (they keep their place: see arrive). */
  private admitting = 0;
  /** Settles when the checks of every message that arrived so far have settled, in arrival order. */
  private admissions: Promise<unknown> = Promise.resolve();
  /** Its session as of the last admitted message (meta `known`, JSON). */
  private known: string | null = null;
  /**
   * The model the last turn resolved for the known agent, in memory only (it may hold a decrypted
   * API key): an early turn starts with it instead of reading the agent's model config first.
   */
  private knownTarget: { known: string; target: ModelTarget } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, role TEXT NOT NULL, content TEXT,
        tool_calls TEXT, tool_call_id TEXT, name TEXT)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS turns (turn INTEGER PRIMARY KEY, finished_at INTEGER)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, turn INTEGER NOT NULL, event TEXT NOT NULL, data TEXT NOT NULL)`);
      // The running turn and the steps that led to its tool calls (user message, model answers, tool results), written before the tools run.
      this.sql.exec(`CREATE TABLE IF NOT EXISTS active_turn (id INTEGER PRIMARY KEY CHECK (id = 1), turn_id TEXT NOT NULL, stream_turn INTEGER NOT NULL, request TEXT NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS turn_steps (idx INTEGER PRIMARY KEY, step TEXT NOT NULL)`);
      this.lastEventId = Number(this.meta('last_event_id') ?? 0);
      this.lastTurn = Number(this.meta('last_turn') ?? 0);
      this.known = this.meta('known');
      this.alarmAt = await ctx.storage.getAlarm();
      // A turn that was running when the object was evicted or restarted resumes (on the alarm, a
      // reconnect or the next message) from its recorded steps.
      this.resumable = this.sql.exec<ActiveTurn>('SELECT turn_id, stream_turn, request FROM active_turn').toArray()[0] ?? null;
      // A streamed turn with no record to resume from ends with an error, so reconnecting clients are not left waiting.
      for (const { turn } of this.sql.exec<{ turn: number }>('SELECT turn FROM turns WHERE finished_at IS NULL').toArray()) {
        if (turn === this.resumable?.stream_turn) continue;
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

  /**
   * A message admitted: resumes an interrupted turn first, then applies the message's
   * double-texting policy when a turn is running or waiting. The refusal (reject), or the new
   * turn's entry queued.
   */
  private admit(strategy: MultitaskStrategy | undefined): { refused: TurnOutcome & { ok: false } } | { entry: TurnEntry } {
    void this.kickResume();
    const running = this.turns[0];
    if (running) {
      const policy = strategy ?? DEFAULT_MULTITASK_STRATEGY;
      if (policy === 'reject') {
        return {
          refused: {
            ok: false,
            error: {
              status: 409,
              code: 'TURN_IN_PROGRESS',
              message: `Turn ${running.id} of this session is still running; send the message when it has finished, or with another multitask_strategy`,
              running_turn_id: running.id,
            },
          },
        };
      }
      if (policy === 'interrupt' || policy === 'rollback') {
        const already = running.stoppedBy;
        if (already !== 'rollback') running.stoppedBy = policy;
        if (already === null) running.controller.abort(new Error(`The turn was stopped by a newer message (${policy})`));
      }
    }
    return { entry: this.newEntry() };
  }

  private newEntry(): TurnEntry {
    const entry: TurnEntry = { id: crypto.randomUUID(), controller: new AbortController(), stoppedBy: null };
    this.turns.push(entry);
    return entry;
  }

  /**
   * A message arriving: its checks (runs/chat-admission.ts), then its double-texting policy, then
   * its turn queued. When nothing is running and the object knows the session (this user, this
   * agent: the last message it admitted), the turn starts at once with the agent it knows and the
   * checks run beside the first model call (EarlyStart): the model is reached one round trip
   * sooner, and what the checks refuse is neither shown nor saved.
   */
  private async arrive(request: TurnRequest, writer: SseWriter | null): Promise<{ refused: TurnOutcome & { ok: false } } | { done: Promise<TurnOutcome> }> {
    const { admitChatTurn, modelTargetFor } = await turns();
    // From here to the turn's entry in the queue nothing awaits: the object's state read is the state acted on.
    const known = this.knownAgent(request);
    if (known !== undefined) {
      const entry = this.newEntry();
      const admission = admitChatTurn(this.env, request);
      const early = this.earlyStart(request, known, admission, modelTargetFor);
      const done = this.enqueue(() => this.runTurn(entry, { ...request, agent: known }, writer, undefined, early));
      // Refused: the turn ends with the refusal (model call aborted, nothing saved); its outcome is the answer.
      if (await admission.then(() => true, () => false)) return { done };
      const outcome = await done;
      return outcome.ok ? { done } : { refused: outcome };
    }
    // The checks of messages arriving together run at once; each message goes on (its policy, its
    // place in the queue) only after the ones that arrived before it: arrival order is kept.
    const admission = admitChatTurn(this.env, request).then(
      (admitted): { admitted: AdmittedTurn } | { error: ReturnType<typeof failure> } => ({ admitted }),
      (e: unknown) => ({ error: failure(e) }),
    );
    const inOrder = this.admissions.then(() => admission);
    this.admissions = inOrder;
    this.admitting++;
    const checked = await inOrder.finally(() => this.admitting--);
    if ('error' in checked) return { refused: { ok: false, error: checked.error } };
    const { admitted } = checked;
    this.remember(request.user_id, admitted.agent);
    const policy = this.admit(request.multitask_strategy ?? admitted.agent?.multitask_strategy);
    if ('refused' in policy) return policy;
    return { done: this.enqueue(() => this.runTurn(policy.entry, { ...request, agent: admitted.agent }, writer)) };
  }

  /** The agent a message may start its turn with before its checks return; undefined when it must wait for them. */
  private knownAgent(request: TurnRequest): TurnAgent | null | undefined {
    const idle = this.turns.length === 0 && this.admitting === 0 && !this.resumable;
    if (!idle || !this.known || this.knownTarget?.known !== this.known || request.new_session) return undefined;
    const known = JSON.parse(this.known) as KnownSession;
    if (known.user_id !== request.user_id || (known.agent?.id ?? null) !== request.agent_id) return undefined;
    return known.agent;
  }

  /** Keeps whose the session is and its agent as just admitted (for the next message's early start). */
  private remember(userId: string, agent: TurnAgent | null) {
    const known = knownKey(userId, agent);
    if (known === this.known) return;
    this.known = known;
    this.setMeta('known', known);
  }

  /**
   * The checks of an early turn, read as: go on, refused, or restart with the agent as it is now.
   * The model is resolved again beside the admission (a model config changed since — its key
   * rotated, its base URL moved — restarts the turn too).
   */
  private earlyStart(
    request: TurnRequest,
    agent: TurnAgent | null,
    admission: Promise<AdmittedTurn>,
    modelTargetFor: (env: Env, userId: string, agent: TurnAgent | null) => Promise<ModelTarget>,
  ): EarlyStart {
    const controller = new AbortController();
    const target = this.knownTarget!.target;
    const resolved = modelTargetFor(this.env, request.user_id, agent).catch(() => null);
    const checked = Promise.all([admission, resolved]).then(
      ([admitted, fresh]) => {
        this.remember(request.user_id, admitted.agent);
        if (JSON.stringify(admitted.agent) === JSON.stringify(agent) && fresh && sameTarget(fresh, target)) return null;
        controller.abort(new EarlyStartEnded('The agent or its model changed: the turn starts again with them'));
        return { changed: admitted.agent };
      },
      (refused: unknown) => {
        controller.abort(new EarlyStartEnded('The message was refused'));
        return { refused };
      },
    );
    return { target, checked, controller, held: { events: [] } };
  }

  /** A non-streaming turn: the result once the turn (and the ones queued before it) are done. */
  async send(request: TurnRequest): Promise<TurnOutcome> {
    const arrival = await this.arrive(request, null);
    return 'refused' in arrival ? arrival.refused : arrival.done;
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
      // Reconnecting only reads what the turn produced: a since-stopped agent does not block it.
      try {
        const { admitChatTurn } = await turns();
        await admitChatTurn(this.env, body, false);
      } catch (e) {
        const { status, code, message } = failure(e);
        return Response.json({ error: code, message }, { status });
      }
      // A reconnect is a reason to resume the turn the object was running when it stopped.
      void this.kickResume();
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
    const arrival = await this.arrive(body, writer);
    if ('refused' in arrival) {
      const { running_turn_id, ...error } = arrival.refused.error;
      return Response.json(
        { error: error.code, message: error.message },
        { status: error.status, headers: running_turn_id ? { [RUNNING_TURN_HEADER]: running_turn_id } : {} },
      );
    }
    void arrival.done;
    return writer.response();
  }

  /**
   * Starts the turn the object was running when it last stopped (once), ahead of anything else:
   * its recorded steps are not run again; a streamed turn's events go on under the same turn, so
   * a client reconnecting with Last-Event-ID gets the rest.
   */
  private kickResume(): Promise<unknown> | null {
    const active = this.resumable;
    if (!active) return null;
    this.resumable = null;
    const entry: TurnEntry = { id: active.turn_id, controller: new AbortController(), stoppedBy: null };
    this.turns.unshift(entry);
    if (active.stream_turn > 0) this.live = { turn: active.stream_turn, subscribers: new Set() };
    return this.enqueue(() => this.resumeTurn(entry, active));
  }

  private async resumeTurn(entry: TurnEntry, active: ActiveTurn): Promise<TurnOutcome> {
    const request = { ...(JSON.parse(active.request) as RunRequest), new_session: false };
    const { turnSaved } = await turns();
    if (await turnSaved(this.env.DB, request.session_id, entry.id)) {
      // The object stopped after D1 had the turn's messages but before its own copy: D1's are the history.
      this.sql.exec('DELETE FROM messages');
      this.sql.exec("DELETE FROM meta WHERE key = 'hydrated'");
      this.clearActiveTurn();
      this.history = null;
      await this.loadHistory(request);
      const turn = active.stream_turn;
      if (turn > 0) {
        this.record(turn, 'error', { error: 'INTERRUPTED', message: 'The turn finished as the server restarted; its messages are saved in the session' });
        this.finishStream(turn);
      }
      this.turns.splice(this.turns.indexOf(entry), 1);
      return { ok: false, error: { status: 409, code: 'INTERRUPTED', message: 'The turn was saved before a restart' } };
    }
    const steps = this.sql.exec<{ step: string }>('SELECT step FROM turn_steps ORDER BY idx').toArray().map((r) => JSON.parse(r.step) as TurnStep);
    return this.runTurn(entry, request, null, { streamTurn: active.stream_turn, steps });
  }

  private clearActiveTurn() {
    this.sql.exec('DELETE FROM active_turn');
    this.sql.exec('DELETE FROM turn_steps');
  }

  /** A streamed turn is over: its end time (for the resume window), its live readers closed. */
  private finishStream(turn: number) {
    this.sql.exec('UPDATE turns SET finished_at = ? WHERE turn = ?', Date.now(), turn);
    if (this.live?.turn === turn) {
      for (const s of this.live.subscribers) void s.close();
      this.live = null;
    }
  }

  /** Forgets the session (its branch or agent was deleted). */
  async destroy(): Promise<void> {
    await this.enqueue(async () => {
      await this.ctx.storage.deleteAlarm();
      this.alarmAt = null;
      await this.ctx.storage.deleteAll();
      this.history = null;
      this.context = [];
      this.resumable = null;
      this.known = null;
      this.knownTarget = null;
      this.lastEventId = 0;
      this.lastTurn = 0;
    });
  }

  /**
   * Resumes the turn that was running when the object stopped (the heartbeat kept while a turn
   * runs), and drops the events of turns that finished more than RESUME_WINDOW_MS ago.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const resumed = this.kickResume();
    if (resumed) await resumed;
    this.pruneEvents();
    if (this.turns.length > 0) return this.armAlarm(TURN_HEARTBEAT_MS);
    const pending = this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM turns').one().n;
    if (pending > 0) await this.armAlarm(RESUME_WINDOW_MS);
  }

  /**
   * Makes the alarm fire within `ms`: set only when it is not due that soon already, so a burst of
   * turns sets it once (each turn would otherwise write it twice). Its firing re-arms it as needed.
   */
  private async armAlarm(ms: number): Promise<void> {
    const at = Date.now() + ms;
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
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
      const { readSessionMessages } = await turns();
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

  /**
   * Runs one turn (or goes on with a resumed one): the steps that lead to tool calls are recorded
   * in `turn_steps` before the tools run; the messages go to D1 and this object's history at the
   * end, with the record of the running turn cleared in the same write of this object's storage.
   * An early turn (`early`) holds its events until its checks pass (no step is written and no tool
   * runs before), starts again if they found the agent or its model changed, and ends with their
   * refusal, showing and saving nothing, if they refused.
   */
  private async runTurn(
    entry: TurnEntry,
    request: RunRequest,
    writer: SseWriter | null,
    resumed?: { streamTurn: number; steps: TurnStep[] },
    early?: EarlyStart,
  ): Promise<TurnOutcome> {
    const { CallRecorder, runAgent, flushCalls, modelTargetFor } = await turns();
    const stream = writer !== null || (resumed?.streamTurn ?? 0) > 0;
    let turn = resumed?.streamTurn ?? 0;
    if (writer) {
      turn = ++this.lastTurn;
      this.setMeta('last_turn', turn);
      this.pruneEvents();
      this.sql.exec('INSERT INTO turns (turn, finished_at) VALUES (?, NULL)', turn);
      this.live = { turn, subscribers: new Set([writer]) };
    }
    let held = early?.held ?? null;
    const recordStep = (step: TurnStep) => this.sql.exec('INSERT INTO turn_steps (step) VALUES (?)', JSON.stringify(step));
    const emit = (event: string, data: unknown) => {
      if (!stream) return;
      if (held) held.events.push([event, data]);
      else this.record(turn, event, data);
    };
    // The record of the running turn starts (at once, or when an early turn's checks pass): what was held is shown.
    const begin = (keepHeld: boolean) => {
      const kept = keepHeld ? held : null;
      held = null;
      if (!resumed) {
        this.clearActiveTurn();
        this.sql.exec('INSERT INTO active_turn (id, turn_id, stream_turn, request) VALUES (1, ?, ?, ?)', entry.id, turn, JSON.stringify(request));
      }
      for (const [event, data] of kept?.events ?? []) emit(event, data);
    };
    // Steps are written when the turn is about to do what must not be done twice — run tool calls:
    // the answer that calls them with what came before it, then each result. A turn that only
    // answers writes none (its messages are saved next; resumed, it calls the model again).
    let unwritten: TurnStep[] = [];
    const callsTools = (s: TurnStep) => s.message.role === 'tool' || (s.message.tool_calls?.length ?? 0) > 0;
    if (early) void early.checked.then((verdict) => verdict === null && held && begin(true));
    else begin(false);
    if (resumed) emit('resumed', { turn_id: entry.id, steps: resumed.steps.length });
    // The turn's model calls are written with its messages, in the same batch.
    const recorder = new CallRecorder();
    const attempt = async (agent: TurnAgent | null, gate?: EarlyStart) => {
      unwritten = [];
      let steps = 0;
      const target = gate?.target ?? (await modelTargetFor(this.env, request.user_id, agent));
      if (!gate) this.knownTarget = { known: knownKey(request.user_id, agent), target };
      return runAgent({
        env: this.env,
        userId: request.user_id,
        agent,
        target,
        message: request.message,
        history: this.context,
        stream,
        sessionId: request.session_id,
        source: 'chat',
        recorder,
        // Interrupting stops the tool calls in flight too (their results say so).
        signal: gate ? AbortSignal.any([entry.controller.signal, gate.controller.signal]) : entry.controller.signal,
        interrupt: entry.controller.signal,
        resume: resumed?.steps,
        onStep: async (step) => {
          // Early: the user message goes by (the model call starts); every later step waits for the checks.
          if (gate && ++steps > 1 && (await gate.checked) !== null) throw new EarlyStartEnded('The turn did not pass its checks');
          unwritten.push(step);
          if (!callsTools(step)) return;
          for (const s of unwritten) recordStep(s);
          unwritten = [];
        },
        onEvent: (e: AgentEvent) => {
          if (e.type === 'token') emit('token', { text: e.text });
          else if (request.streamlined) return;
          else if (e.type === 'tool_call') emit('tool_call', { id: e.id, name: e.name, arguments: e.arguments });
          else emit('tool_result', { id: e.id, name: e.name, output: e.output, ...(e.error ? { error: e.error } : {}), duration_ms: e.duration_ms });
        },
      });
    };
    let refused: unknown = null;
    try {
      await this.armAlarm(TURN_HEARTBEAT_MS);
      await this.loadHistory(request);
      let result;
      try {
        result = await attempt(request.agent, early);
        if (early && (await early.checked) !== null) throw new EarlyStartEnded('The turn did not pass its checks');
      } catch (e) {
        const verdict = early ? await early.checked : null;
        if (verdict === null) throw e;
        if ('refused' in verdict) {
          refused = verdict.refused;
          throw verdict.refused;
        }
        // The agent changed since the object last saw it: what the early call said is dropped; the turn starts again.
        begin(false);
        request = { ...request, agent: verdict.changed };
        result = await attempt(verdict.changed);
      }
      if (rolledBackTurn(entry)) return this.rolledBack(turn, stream);
      const saved = await this.saveMessages(request, entry.id, result.messages, result.token_usage, recorder, result.finish_reason === 'interrupted');
      // Rolled back while its messages were being written: they are taken out again.
      if (rolledBackTurn(entry)) {
        await this.discard(request, saved);
        return this.rolledBack(turn, stream);
      }
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
      if (rolledBackTurn(entry)) return this.rolledBack(turn, stream);
      const error = failure(e);
      // A refused message: its caller gets the refusal; nothing was shown, nothing is saved.
      if (refused !== null) return { ok: false, error };
      // What the user said is kept even when the model failed.
      await this.saveMessages(request, entry.id, [{ role: 'user', content: request.message }], null, recorder, false).catch((err) =>
        console.error(JSON.stringify({ type: 'error', where: 'chat save after failure', error: String(err) })),
      );
      emit('error', { error: error.code, message: error.message });
      return { ok: false, error };
    } finally {
      this.clearActiveTurn();
      this.turns.splice(this.turns.indexOf(entry), 1);
      // Calls whose batch did not go through are written on their own (this object keeps
      // running the write after the answer).
      if (recorder.size) void flushCalls(this.env.DB, recorder);
      if (stream) this.finishStream(turn);
      // The heartbeat alarm stays: when it fires with no turn left, it re-arms for dropping old events.
    }
  }

  /** A turn a newer message rolled back: nothing of it is kept; its stream ends with an error. */
  private rolledBack(turn: number, stream: boolean): TurnOutcome {
    this.clearActiveTurn();
    if (stream) this.record(turn, 'error', { error: ROLLED_BACK.code, message: ROLLED_BACK.message });
    return { ok: false, error: ROLLED_BACK };
  }

  /** Takes a saved turn's messages (the newest) out of D1 and this object's history. */
  private async discard(request: TurnRequest, rows: StoredMessage[]) {
    const ids = rows.map((r) => r.id);
    const { discardMessages } = await turns();
    await discardMessages(this.env.DB, request.session_id, ids);
    for (const id of ids) this.sql.exec('DELETE FROM messages WHERE id = ?', id);
    const history = await this.loadHistory(request);
    history.splice(history.length - rows.length, rows.length);
    this.context.splice(this.context.length - rows.length, rows.length);
  }

  /**
   * Appends a turn's messages with the next dense seqs: to D1 first (one batch, with the
   * session's updated_at and the turn's `llm_calls` rows), then here. The final message carries
   * the turn's token usage; an interrupted turn's final message is marked interrupted.
   */
  private async saveMessages(
    request: TurnRequest,
    turnId: string,
    messages: ChatMessage[],
    usage: Usage | null,
    recorder: CallRecorder,
    interrupted: boolean,
  ): Promise<StoredMessage[]> {
    const history = await this.loadHistory(request);
    let seq = history.at(-1)?.seq ?? 0;
    const rows: StoredMessage[] = messages.map((m, i) => ({
      seq: ++seq,
      // The user message carries the turn's id (the id a 409 TURN_IN_PROGRESS names).
      id: i === 0 && m.role === 'user' ? turnId : crypto.randomUUID(),
      role: m.role,
      content: m.content,
      tool_calls: m.tool_calls?.length ? JSON.stringify(m.tool_calls) : null,
      tool_call_id: m.tool_call_id ?? null,
      name: m.name ?? null,
    }));
    const { saveTurn } = await turns();
    await saveTurn(this.env.DB, request.session_id, rows, usage, recorder, interrupted);
    // The history and the end of the running turn's record, in one write of this object's storage.
    this.clearActiveTurn();
    for (const r of rows) {
      this.sql.exec('INSERT INTO messages (seq, id, role, content, tool_calls, tool_call_id, name) VALUES (?, ?, ?, ?, ?, ?, ?)', r.seq, r.id, r.role, r.content, r.tool_calls, r.tool_call_id, r.name);
    }
    history.push(...rows);
    this.context.push(...rows.map(toChatMessage));
    return rows;
  }
}
