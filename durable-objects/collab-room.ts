import { Server, type Connection, type ConnectionContext, type WSMessage } from 'partyserver';
import type { Env } from '../src/env';
import type { Member, MemberInfo } from './contracts';
import { ApiError } from '../src/lib/errors';
import type { CollabType } from './contracts';
import { documentAdapter, loadDocument, type CollabDocument } from '../src/runs/collab-documents';

/**
 * One room per edited resource (`agent:<id>`, `workflow:<id>`): a partyserver Durable Object with
 * hibernatable WebSockets, so an idle room with connected editors costs nothing.
 *
 * The worker authenticates the socket (?token=) and checks the resource (read to join, write to
 * edit) before forwarding it here with the member in the `X-Collab-Member` header; the object is
 * not reachable otherwise. Protocol (JSON text frames):
 *
 *   server → client   {type:"sync", seq, version, document, members, you}   on join (late joiners too)
 *                     {type:"join", member} / {type:"leave", connection_id, user_id}
 *                     {type:"presence", connection_id, user_id, cursor, selection}
 *                     {type:"edit", seq, connection_id, user_id, ops, client_op_id}   to everyone, sender included
 *                     {type:"saved", seq, version, by} / {type:"error", code, message, client_op_id?} / {type:"pong"}
 *   client → server   {type:"presence", cursor?, selection?}
 *                     {type:"edit", ops:[{op:"set", path, value} | {op:"delete", path}], client_op_id?}
 *                     {type:"save"}  {type:"ping"}
 *
 * Every edit gets the next sequence number here, in one place, and is applied to the room's
 * document before it is broadcast — so all clients apply the same edits in the same order. The
 * draft document and sequence live in the object's storage (they survive hibernation); saving
 * goes through the resource's versioned update. When the last member leaves, the draft is dropped.
 */

interface ConnState extends MemberInfo {
  cursor: unknown;
  selection: unknown;
  joined_at: string;
}

interface Draft {
  resource_type: CollabType;
  resource_id: string;
  document: CollabDocument;
  version: number;
  seq: number;
}

type Op = { op: 'set'; path: Array<string | number>; value: unknown } | { op: 'delete'; path: Array<string | number> };

const MAX_MESSAGE_BYTES = 256 * 1024;
const MAX_DOCUMENT_BYTES = 1024 * 1024;
const MAX_OPS = 200;
const MAX_PRESENCE_BYTES = 4 * 1024;

class EditError extends Error {}

/** Applies ops to a copy of the document; throws EditError for a bad path or a forbidden field. */
export function applyOps(document: CollabDocument, ops: Op[], fields: readonly string[]): CollabDocument {
  const next = structuredClone(document);
  for (const op of ops) {
    if (!op || (op.op !== 'set' && op.op !== 'delete') || !Array.isArray(op.path) || op.path.length === 0) throw new EditError('each op is {op: "set"|"delete", path: [...], value?}');
    const [field] = op.path;
    if (typeof field !== 'string' || !fields.includes(field)) throw new EditError(`path must start with one of ${fields.join(', ')}`);
    let parent: unknown = next;
    for (const key of op.path.slice(0, -1)) {
      parent = parent !== null && typeof parent === 'object' ? (parent as Record<string, unknown>)[String(key)] : undefined;
      if (parent === null || typeof parent !== 'object') throw new EditError(`no object at ${op.path.join('/')}`);
    }
    const last = op.path[op.path.length - 1];
    if (Array.isArray(parent)) {
      const i = Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new EditError(`bad array index ${String(last)}`);
      if (op.op === 'set') parent[i] = op.value;
      else if (i < parent.length) parent.splice(i, 1);
    } else {
      const obj = parent as Record<string, unknown>;
      if (op.op === 'set') obj[String(last)] = op.value;
      else if (op.path.length === 1) obj[String(last)] = null;
      else delete obj[String(last)];
    }
  }
  if (JSON.stringify(next).length > MAX_DOCUMENT_BYTES) throw new EditError('the document would exceed 1 MiB');
  return next;
}

export class CollabRoom extends Server {
  static override options = { hibernate: true };

  /** partyserver types env as Cloudflare.Env; this worker's bindings are Env. */
  private get bindings(): Env {
    return this.env as unknown as Env;
  }

  // A cache of the stored draft; empty again after hibernation (then read from storage).
  private draft: Draft | null = null;

  private async loadDraft(type: CollabType, id: string): Promise<Draft> {
    if (this.draft) return this.draft;
    const stored = await this.ctx.storage.get<Draft>('draft');
    if (stored) return (this.draft = stored);
    const loaded = await loadDocument(this.bindings, type, id);
    // Another join may have created the draft while D1 answered: keep the first.
    const again = await this.ctx.storage.get<Draft>('draft');
    if (again) return (this.draft = again);
    this.draft = { resource_type: type, resource_id: id, document: loaded.document, version: loaded.version, seq: 0 };
    await this.ctx.storage.put('draft', this.draft);
    return this.draft;
  }

  private member(conn: Connection<ConnState>): Member | null {
    const s = conn.state;
    if (!s) return null;
    return { connection_id: conn.id, user_id: s.user.id, nickname: s.user.nickname, can_edit: s.can_edit, cursor: s.cursor, selection: s.selection, joined_at: s.joined_at };
  }

  private members(except?: string): Member[] {
    const out: Member[] = [];
    for (const conn of this.getConnections<ConnState>()) {
      if (conn.id === except) continue;
      const m = this.member(conn);
      if (m) out.push(m);
    }
    return out.sort((a, b) => a.joined_at.localeCompare(b.joined_at));
  }

  /** RPC for GET /collaboration/.../users. */
  async presence(): Promise<Member[]> {
    return this.members();
  }

  override async onConnect(conn: Connection<ConnState>, ctx: ConnectionContext): Promise<void> {
    const header = ctx.request.headers.get('X-Collab-Member');
    if (!header) {
      conn.close(1008, 'Join through /api/v1/collaboration');
      return;
    }
    const info = JSON.parse(header) as MemberInfo;
    conn.setState({ ...info, cursor: null, selection: null, joined_at: new Date().toISOString() });
    let draft: Draft;
    try {
      draft = await this.loadDraft(info.resource_type, info.resource_id);
    } catch (e) {
      send(conn, { type: 'error', code: e instanceof ApiError ? e.code : 'INTERNAL_ERROR', message: e instanceof Error ? e.message : String(e) });
      conn.close(1011, 'Could not load the document');
      return;
    }
    const me = this.member(conn)!;
    send(conn, { type: 'sync', seq: draft.seq, version: draft.version, document: draft.document, members: this.members(), you: me });
    this.broadcast(JSON.stringify({ type: 'join', member: me }), [conn.id]);
  }

  override async onMessage(conn: Connection<ConnState>, raw: WSMessage): Promise<void> {
    const state = conn.state;
    if (!state) return;
    if (typeof raw !== 'string' || raw.length > MAX_MESSAGE_BYTES) return send(conn, { type: 'error', code: 'BAD_MESSAGE', message: `Send JSON text frames of at most ${MAX_MESSAGE_BYTES} bytes` });
    let msg: { type?: string; ops?: Op[]; client_op_id?: unknown; cursor?: unknown; selection?: unknown };
    try {
      msg = JSON.parse(raw);
    } catch {
      return send(conn, { type: 'error', code: 'BAD_MESSAGE', message: 'Not JSON' });
    }
    const clientOpId = typeof msg.client_op_id === 'string' || typeof msg.client_op_id === 'number' ? msg.client_op_id : null;
    switch (msg.type) {
      case 'ping':
        return send(conn, { type: 'pong' });
      case 'presence': {
        const cursor = msg.cursor ?? state.cursor;
        const selection = msg.selection ?? state.selection;
        if (JSON.stringify([cursor, selection]).length > MAX_PRESENCE_BYTES) return send(conn, { type: 'error', code: 'BAD_MESSAGE', message: 'Presence too large' });
        conn.setState({ ...state, cursor, selection });
        this.broadcast(JSON.stringify({ type: 'presence', connection_id: conn.id, user_id: state.user.id, cursor, selection }), [conn.id]);
        return;
      }
      case 'edit': {
        if (!state.can_edit) return send(conn, { type: 'error', code: 'FORBIDDEN', message: 'You may view this resource but not edit it', client_op_id: clientOpId });
        const ops = msg.ops;
        if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_OPS) return send(conn, { type: 'error', code: 'BAD_EDIT', message: `ops: 1 to ${MAX_OPS} operations`, client_op_id: clientOpId });
        const draft = await this.loadDraft(state.resource_type, state.resource_id);
        let document: CollabDocument;
        try {
          document = applyOps(draft.document, ops, documentAdapter(state.resource_type).fields);
        } catch (e) {
          if (!(e instanceof EditError)) throw e;
          return send(conn, { type: 'error', code: 'BAD_EDIT', message: e.message, client_op_id: clientOpId });
        }
        // The sequence number is assigned and stored before anyone hears of the edit.
        this.draft = { ...draft, document, seq: draft.seq + 1 };
        await this.ctx.storage.put('draft', this.draft);
        this.broadcast(JSON.stringify({ type: 'edit', seq: this.draft.seq, connection_id: conn.id, user_id: state.user.id, ops, client_op_id: clientOpId }));
        return;
      }
      case 'save': {
        if (!state.can_edit) return send(conn, { type: 'error', code: 'FORBIDDEN', message: 'You may view this resource but not edit it' });
        const draft = await this.loadDraft(state.resource_type, state.resource_id);
        try {
          const { version } = await documentAdapter(state.resource_type).save(this.bindings, state.user, state.resource_id, draft.document);
          // Edits that arrived while saving stay in the draft; only the version moves.
          this.draft = { ...(this.draft ?? draft), version };
          await this.ctx.storage.put('draft', this.draft);
          this.broadcast(JSON.stringify({ type: 'saved', seq: draft.seq, version, by: state.user.id }));
        } catch (e) {
          send(conn, { type: 'error', code: e instanceof ApiError ? e.code : 'INTERNAL_ERROR', message: e instanceof ApiError ? e.message : 'Saving failed' });
        }
        return;
      }
      default:
        return send(conn, { type: 'error', code: 'BAD_MESSAGE', message: 'type must be presence, edit, save or ping' });
    }
  }

  override async onClose(conn: Connection<ConnState>): Promise<void> {
    const state = conn.state;
    if (state) this.broadcast(JSON.stringify({ type: 'leave', connection_id: conn.id, user_id: state.user.id }), [conn.id]);
    if (this.members(conn.id).length === 0) {
      // Nobody left editing: unsaved edits go; the next session starts from the saved resource.
      this.draft = null;
      await this.ctx.storage.delete('draft');
    }
  }
}

function send(conn: Connection, message: unknown) {
  try {
    conn.send(JSON.stringify(message));
  } catch {
    // The socket is already closing.
  }
}
