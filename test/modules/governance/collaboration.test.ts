import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { applyOps } from '../../../durable-objects/collab-room';
import { api, BASE, createUser, expectError } from '../../support/helpers';
import { createAgent, post, type User } from '../../support/goal-helpers';
import { chain, createWorkflow } from '../../support/wf-helpers';

/** A test client of a room: every message kept, `next(type)` waits for the next one of a type. */
async function join(u: User | null, type: string, id: string, headers: Record<string, string> = { Upgrade: 'websocket' }) {
  const qs = u ? `?token=${encodeURIComponent(u.token)}` : '';
  const res = await exports.default.fetch(new Request(`${BASE}/api/v1/collaboration/${type}/${id}/ws${qs}`, { headers }));
  if (res.status !== 101) return { res, client: null };
  const ws = res.webSocket!;
  ws.accept();
  const inbox: any[] = [];
  const waiters: Array<() => void> = [];
  ws.addEventListener('message', (e) => {
    inbox.push(JSON.parse(e.data as string));
    waiters.splice(0).forEach((w) => w());
  });
  let read = 0;
  const client = {
    ws,
    all: inbox,
    send: (m: unknown) => ws.send(JSON.stringify(m)),
    /** The next unread message of `type` (skipping others), within 5 s. */
    async next(type: string): Promise<any> {
      const until = Date.now() + 5000;
      for (;;) {
        const i = inbox.findIndex((m, j) => j >= read && m.type === type);
        if (i !== -1) {
          read = i + 1;
          return inbox[i];
        }
        if (Date.now() > until) throw new Error(`no ${type} message; got ${JSON.stringify(inbox.slice(read))}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
  };
  return { res, client };
}

describe('collaboration rooms', () => {
  it('sync, presence, sequenced edits in one order for everyone, late joiners, read-only members, save through the versioned update, leave', async () => {
    const owner = await createUser();
    const editor = await createUser();
    const reader = await createUser();
    const agent = await createAgent(owner, { name: 'draft', system_prompt: 'be brief' });
    await post(owner, '/api/v1/permissions/grants', { resource_type: 'agent', resource_id: agent.id, user_id: editor.id, level: 'write' });
    await post(owner, '/api/v1/permissions/grants', { resource_type: 'agent', resource_id: agent.id, user_id: reader.id, level: 'read' });

    const a = (await join(owner, 'agent', agent.id)).client!;
    const sync = await a.next('sync');
    expect(sync).toMatchObject({ seq: 0, version: 1, document: { name: 'draft', system_prompt: 'be brief', iteration_limit: 15 }, you: { user_id: owner.id, can_edit: true } });
    expect(sync.members).toHaveLength(1);

    const b = (await join(editor, 'agent', agent.id)).client!;
    expect((await b.next('sync')).members.map((m: any) => m.user_id)).toEqual([owner.id, editor.id]);
    expect((await a.next('join')).member).toMatchObject({ user_id: editor.id, can_edit: true });

    b.send({ type: 'presence', cursor: { field: 'system_prompt', offset: 3 } });
    expect(await a.next('presence')).toMatchObject({ user_id: editor.id, cursor: { field: 'system_prompt', offset: 3 } });

    // Edits from both sides: the server numbers them; both sides see the same sequence.
    a.send({ type: 'edit', ops: [{ op: 'set', path: ['name'], value: 'shared draft' }], client_op_id: 'a1' });
    b.send({ type: 'edit', ops: [{ op: 'set', path: ['system_prompt'], value: 'be very brief' }], client_op_id: 'b1' });
    a.send({ type: 'edit', ops: [{ op: 'set', path: ['include_tools', 0], value: 'calculator' }], client_op_id: 'a2' });
    const seenByA = [await a.next('edit'), await a.next('edit'), await a.next('edit')];
    const seenByB = [await b.next('edit'), await b.next('edit'), await b.next('edit')];
    expect(seenByA.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(seenByB.map((e) => [e.seq, e.client_op_id])).toEqual(seenByA.map((e) => [e.seq, e.client_op_id]));
    expect(seenByA.find((e) => e.client_op_id === 'b1')).toMatchObject({ user_id: editor.id, connection_id: expect.any(String) });

    // A late joiner gets the document as edited, and the others' presence.
    const c = (await join(reader, 'agent', agent.id)).client!;
    const late = await c.next('sync');
    expect(late).toMatchObject({ seq: 3, document: { name: 'shared draft', system_prompt: 'be very brief', include_tools: ['calculator'] }, you: { can_edit: false } });
    expect(late.members.find((m: any) => m.user_id === editor.id).cursor).toEqual({ field: 'system_prompt', offset: 3 });

    // Read access: watch, not edit or save.
    c.send({ type: 'edit', ops: [{ op: 'set', path: ['name'], value: 'mine' }], client_op_id: 'c1' });
    expect(await c.next('error')).toMatchObject({ code: 'FORBIDDEN', client_op_id: 'c1' });
    c.send({ type: 'save' });
    expect(await c.next('error')).toMatchObject({ code: 'FORBIDDEN' });
    b.send({ type: 'edit', ops: [{ op: 'set', path: ['owner_id'], value: 'me' }] });
    expect(await b.next('error')).toMatchObject({ code: 'BAD_EDIT' });
    b.send({ type: 'nonsense' });
    expect(await b.next('error')).toMatchObject({ code: 'BAD_MESSAGE' });
    b.send({ type: 'ping' });
    await b.next('pong');

    const online = await api(`/api/v1/collaboration/agent/${agent.id}/users`, { token: reader.token });
    expect(online.status).toBe(200);
    expect(online.body).toMatchObject({ resource_type: 'agent', resource_id: agent.id, count: 3 });
    expect(online.body.users.map((m: any) => m.user_id).sort()).toEqual([owner.id, editor.id, reader.id].sort());

    // Saving is the agents module's versioned update, as the editor.
    b.send({ type: 'save' });
    const saved = await a.next('saved');
    expect(saved).toMatchObject({ seq: 3, version: 2, by: editor.id });
    expect((await c.next('saved')).version).toBe(2);
    const stored = (await api(`/api/v1/agents/${agent.id}`, { token: owner.token })).body;
    expect(stored).toMatchObject({ name: 'shared draft', system_prompt: 'be very brief', include_tools: ['calculator'], version: 2 });

    // An invalid document is refused by the module's validation.
    a.send({ type: 'edit', ops: [{ op: 'set', path: ['iteration_limit'], value: 1000 }] });
    await a.next('edit');
    a.send({ type: 'save' });
    expect(await a.next('error')).toMatchObject({ code: 'VALIDATION_ERROR' });

    c.ws.close(1000, 'bye');
    expect(await a.next('leave')).toMatchObject({ user_id: reader.id });
    const after = await api(`/api/v1/collaboration/agent/${agent.id}/users`, { token: owner.token });
    expect(after.body.count).toBe(2);
    a.ws.close(1000);
    b.ws.close(1000);
  });

  it('a workflow room: a write grant edits and saves a new workflow version; read grants and strangers are refused', async () => {
    const owner = await createUser();
    const editor = await createUser();
    const wf = await createWorkflow(owner.token, chain([{ id: 'greet', type: 'template', config: { template: 'Hello' } }]));
    expect((await join(editor, 'workflow', wf.id)).res.status).toBe(404);
    await post(owner, '/api/v1/permissions/grants', { resource_type: 'workflow', resource_id: wf.id, user_id: editor.id, level: 'write' });
    const e = (await join(editor, 'workflow', wf.id)).client!;
    const sync = await e.next('sync');
    expect(sync).toMatchObject({ seq: 0, version: 1, document: { name: 'wf' }, you: { can_edit: true } });
    const greet = sync.document.graph.nodes.findIndex((n: any) => n.id === 'greet');
    e.send({ type: 'edit', ops: [{ op: 'set', path: ['graph', 'nodes', greet, 'config', 'template'], value: 'Hello {{inputs.name}}' }, { op: 'set', path: ['name'], value: 'greeter' }] });
    expect((await e.next('edit')).seq).toBe(1);
    e.send({ type: 'save' });
    expect(await e.next('saved')).toMatchObject({ seq: 1, version: 2, by: editor.id });
    const stored = (await api(`/api/v1/workflows/${wf.id}`, { token: owner.token })).body;
    expect(stored).toMatchObject({ name: 'greeter', version: 2 });
    expect(stored.graph.nodes.find((n: any) => n.id === 'greet').config.template).toBe('Hello {{inputs.name}}');
    // The grant opens the workflow API too, at its level: update yes, delete no.
    expect((await api(`/api/v1/workflows/${wf.id}`, { token: editor.token, method: 'PUT', json: { description: 'shared' } })).status).toBe(200);
    expectError(await api(`/api/v1/workflows/${wf.id}`, { token: editor.token, method: 'DELETE' }), 403);
    e.ws.close(1000);
  });

  it('refuses without a token, for others’ resources, unknown ones, non-upgrades and bad types', async () => {
    const owner = await createUser();
    const stranger = await createUser();
    const agent = await createAgent(owner);
    expectError(await api(`/api/v1/collaboration/agent/${agent.id}/ws`, { headers: { Upgrade: 'websocket' } }), 401);
    expectError(await api(`/api/v1/collaboration/agent/${agent.id}/ws?token=nope`, { headers: { Upgrade: 'websocket' } }), 401);
    const { res } = await join(stranger, 'agent', agent.id);
    expect(res.status).toBe(404);
    expect((await join(owner, 'agent', crypto.randomUUID())).res.status).toBe(404);
    expect((await join(owner, 'workflow', crypto.randomUUID())).res.status).toBe(404);
    expectError(await api(`/api/v1/collaboration/agent/${agent.id}/ws?token=${owner.token}`), 426, 'UPGRADE_REQUIRED');
    expectError(await api(`/api/v1/collaboration/goal/${agent.id}/ws?token=${owner.token}`, { headers: { Upgrade: 'websocket' } }), 422);

    expect((await api(`/api/v1/collaboration/agent/${agent.id}/users`, { token: owner.token })).body).toMatchObject({ count: 0, users: [] });
    expectError(await api(`/api/v1/collaboration/agent/${agent.id}/users`, { token: stranger.token }), 404);
    expectError(await api(`/api/v1/collaboration/agent/${crypto.randomUUID()}/users`, { token: owner.token }), 404);
    expectError(await api(`/api/v1/collaboration/agent/${agent.id}/users`), 401);
    expectError(await api(`/api/v1/collaboration/file/${agent.id}/users`, { token: owner.token }), 422);
  });

  it('applyOps: set and delete by path, arrays, refusals', () => {
    const doc = { name: 'a', include_tools: ['x', 'y'], workflow_config: { nodes: [{ id: 's', type: 'start' }] } };
    const fields = ['name', 'include_tools', 'workflow_config'];
    expect(applyOps(doc, [{ op: 'set', path: ['workflow_config', 'nodes', 0, 'label'], value: 'Start' }], fields).workflow_config).toEqual({ nodes: [{ id: 's', type: 'start', label: 'Start' }] });
    expect(applyOps(doc, [{ op: 'delete', path: ['include_tools', 0] }], fields).include_tools).toEqual(['y']);
    expect(applyOps(doc, [{ op: 'set', path: ['include_tools', 2], value: 'z' }], fields).include_tools).toEqual(['x', 'y', 'z']);
    expect(doc.include_tools).toEqual(['x', 'y']); // the input is not changed
    expect(() => applyOps(doc, [{ op: 'set', path: ['include_tools', 5], value: 'z' }], fields)).toThrow(/index/);
    expect(() => applyOps(doc, [{ op: 'set', path: ['version'], value: 9 }], fields)).toThrow(/path must start/);
    expect(() => applyOps(doc, [{ op: 'set', path: ['workflow_config', 'missing', 'x'], value: 1 }], fields)).toThrow(/no object/);
  });
});
