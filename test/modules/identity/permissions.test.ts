import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ROLE_IDS, BUILTIN_ROLE_PERMISSIONS, PERMISSION_CATALOGUE, authorize, grantsCleanup, readableWhere } from '../../../src/modules/identity/permissions/authorize';
import { db, runBatch } from '../../../src/db/client';
import { agents } from '../../../src/db/schema/agents';
import { api, createUser, expectError } from '../../support/helpers';
import { count, createAgent, createGoal, createTask, notificationsOf, post, type User } from '../../support/goal-helpers';

const P = '/api/v1/permissions';
let admin: User;

beforeAll(async () => {
  admin = await createUser('admin'); // the first user of this file's database is the admin
  expect(admin.role).toBe('admin');
});

const grant = (by: User, json: Record<string, unknown>) => post(by, `${P}/grants`, json);
const get = (u: User, path: string) => api(path, { token: u.token });
const put = (u: User, path: string, json: unknown) => api(path, { token: u.token, method: 'PUT', json });
const del = (u: User, path: string) => api(path, { token: u.token, method: 'DELETE' });

describe('catalogue and roles', () => {
  it('lists the catalogue and the builtin roles seeded with the permissions the code declares', async () => {
    const u = await createUser();
    const cat = await get(u, `${P}/catalogue`);
    expect(cat.status).toBe(200);
    expect(cat.body.permissions.map((p: any) => p.name)).toEqual(PERMISSION_CATALOGUE.map((p) => p.name));
    expect(cat.body.levels).toEqual(['read', 'execute', 'write', 'admin']);
    expect(cat.body.resource_types).toEqual(['agent', 'workflow', 'knowledge_base', 'goal']);
    const roles = await get(u, `${P}/roles`);
    expect(roles.body.items.slice(0, 3).map((r: any) => [r.name, r.is_builtin])).toEqual([
      ['admin', true],
      ['user', true],
      ['viewer', true],
    ]);
    for (const [name, id] of Object.entries(BUILTIN_ROLE_IDS)) {
      const role = await get(u, `${P}/roles/${id}/permissions`);
      expect(role.body.permissions).toEqual([...BUILTIN_ROLE_PERMISSIONS[name as keyof typeof BUILTIN_ROLE_IDS]].sort());
    }
    expectError(await api(`${P}/catalogue`), 401);
    expectError(await api(`${P}/roles`), 401);
    expectError(await get(u, `${P}/roles/${crypto.randomUUID()}`), 404);
    expectError(await get(u, `${P}/roles?page_size=0`), 422);
  });

  it('creates, updates, replaces permissions of and deletes a role (permissions:manage only)', async () => {
    const u = await createUser();
    const body = { name: 'auditor', description: 'reads logs', permissions: ['audit_logs:read', 'system_logs:read', 'audit_logs:read'] };
    expectError(await post(u, `${P}/roles`, body), 403, 'FORBIDDEN');
    const created = await post(admin, `${P}/roles`, body);
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ name: 'auditor', is_builtin: false, permissions: ['audit_logs:read', 'system_logs:read'], user_count: 0 });
    expectError(await post(admin, `${P}/roles`, { ...body, name: 'AUDITOR' }), 409);
    expect(expectError(await post(admin, `${P}/roles`, { name: 'x', permissions: ['nope:do'] }), 422).message).toContain('body.permissions.0');
    expectError(await post(admin, `${P}/roles`, { name: '' }), 422);

    const id = created.body.id;
    expect((await get(u, `${P}/roles/${id}`)).body.name).toBe('auditor');
    const updated = await put(admin, `${P}/roles/${id}`, { description: 'reads all logs', permissions: ['monitoring:read'] });
    expect(updated.body).toMatchObject({ name: 'auditor', description: 'reads all logs', permissions: ['monitoring:read'] });
    expectError(await put(u, `${P}/roles/${id}`, { description: 'mine' }), 403);
    const replaced = await put(admin, `${P}/roles/${id}/permissions`, { permissions: ['feedback:read', 'agent:read'] });
    expect(replaced.body).toEqual({ role_id: id, permissions: ['agent:read', 'feedback:read'] });
    expect(await count('SELECT count(*) AS n FROM role_permissions WHERE role_id = ?', id)).toBe(2);
    expectError(await put(admin, `${P}/roles/${id}/permissions`, { permissions: 'all' }), 422);
    expectError(await put(admin, `${P}/roles/${crypto.randomUUID()}/permissions`, { permissions: [] }), 404);

    await post(admin, `${P}/users/${u.id}/roles`, { role_id: id });
    expectError(await del(u, `${P}/roles/${id}`), 403);
    expect((await del(admin, `${P}/roles/${id}`)).status).toBe(204);
    expect(await count('SELECT count(*) AS n FROM user_roles WHERE role_id = ?', id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM role_permissions WHERE role_id = ?', id)).toBe(0);
    expectError(await del(admin, `${P}/roles/${id}`), 404);
  });

  it('builtin roles cannot be deleted or renamed, and admin keeps every permission', async () => {
    for (const id of Object.values(BUILTIN_ROLE_IDS)) expectError(await del(admin, `${P}/roles/${id}`), 409, 'CONFLICT');
    expectError(await put(admin, `${P}/roles/${BUILTIN_ROLE_IDS.viewer}`, { name: 'reader' }), 409);
    expectError(await put(admin, `${P}/roles/${BUILTIN_ROLE_IDS.admin}/permissions`, { permissions: [] }), 409);
    const desc = await put(admin, `${P}/roles/${BUILTIN_ROLE_IDS.viewer}`, { description: 'read-only members' });
    expect(desc.body).toMatchObject({ name: 'viewer', description: 'read-only members' });
  });
});

describe('user roles', () => {
  it('a user without assignments has their account role; assigning adds, revoking the default makes them read-only', async () => {
    const u = await createUser();
    const mine = await get(u, `${P}/users/${u.id}/roles`);
    expect(mine.body.roles).toEqual([{ role_id: BUILTIN_ROLE_IDS.user, name: 'user', is_builtin: true, implicit: true, assigned_at: null }]);
    expect(mine.body.permissions).toContain('agent:create');

    const assigned = await post(admin, `${P}/users/${u.id}/roles`, { role_id: BUILTIN_ROLE_IDS.viewer });
    expect(assigned.status, assigned.text).toBe(200);
    expect(assigned.body.roles.map((r: any) => [r.name, r.implicit])).toEqual([
      ['user', false],
      ['viewer', false],
    ]);
    expect((await createAgentRaw(u)).status).toBe(201);

    expect((await del(admin, `${P}/users/${u.id}/roles/${BUILTIN_ROLE_IDS.user}`)).status).toBe(204);
    expect((await get(u, `${P}/users/${u.id}/roles`)).body.permissions).toEqual(['agent:read', 'goal:read', 'knowledge_base:read', 'workflow:read']);
    expectError(await createAgentRaw(u), 403, 'FORBIDDEN');
    expectError(await post(u, '/api/v1/goals', { title: 'g', description: '' }), 403);

    // A viewer reads everyone's agents, changes none.
    const owner = await createUser();
    const agent = await createAgent(owner);
    expect((await get(u, `/api/v1/agents/${agent.id}`)).status).toBe(200);
    expect((await get(u, '/api/v1/agents?page_size=100')).body.items.map((a: any) => a.id)).toContain(agent.id);
    expectError(await put(u, `/api/v1/agents/${agent.id}`, { name: 'x' }), 403);

    expectError(await del(admin, `${P}/users/${u.id}/roles/${BUILTIN_ROLE_IDS.user}`), 404);
    expectError(await post(admin, `${P}/users/${u.id}/roles`, { role_id: crypto.randomUUID() }), 422);
    expectError(await post(admin, `${P}/users/${u.id}/roles`, {}), 422);
    expectError(await post(admin, `${P}/users/${crypto.randomUUID()}/roles`, { role_id: BUILTIN_ROLE_IDS.viewer }), 404);
  });

  it('others’ roles are 404 without permissions:manage; assigning needs it; 401 without a token', async () => {
    const u = await createUser();
    const other = await createUser();
    expectError(await get(u, `${P}/users/${other.id}/roles`), 404);
    expectError(await post(u, `${P}/users/${other.id}/roles`, { role_id: BUILTIN_ROLE_IDS.viewer }), 403);
    expectError(await api(`${P}/users/${u.id}/roles`), 401);
    expect((await get(admin, `${P}/users/${other.id}/roles`)).status).toBe(200);
    expectError(await del(u, `${P}/users/${other.id}/roles/${BUILTIN_ROLE_IDS.user}`), 403);
  });

  it('the admin role is the account admin flag: only admins assign it, the last admin keeps it', async () => {
    const manager = await createUser();
    const roleRes = await post(admin, `${P}/roles`, { name: 'managers', permissions: ['permissions:manage'] });
    await post(admin, `${P}/users/${manager.id}/roles`, { role_id: roleRes.body.id });
    const u = await createUser();
    expectError(await post(manager, `${P}/users/${u.id}/roles`, { role_id: BUILTIN_ROLE_IDS.admin }), 403);
    expect((await post(manager, `${P}/users/${u.id}/roles`, { role_id: BUILTIN_ROLE_IDS.viewer })).status).toBe(200);

    expect((await post(admin, `${P}/users/${u.id}/roles`, { role_id: BUILTIN_ROLE_IDS.admin })).status).toBe(200);
    expect((await env.DB.prepare('SELECT role FROM users WHERE id = ?').bind(u.id).first<{ role: string }>())!.role).toBe('admin');
    expect((await get(u, '/api/v1/auth/me')).body.role).toBe('admin');
    expect((await get(u, `${P}/users/${manager.id}/roles`)).status).toBe(200);
    expect((await del(admin, `${P}/users/${u.id}/roles/${BUILTIN_ROLE_IDS.admin}`)).status).toBe(204);
    expect((await get(u, '/api/v1/auth/me')).body.role).toBe('user');
    // At once, though this isolate had the user cached as an admin (the credential cache).
    expectError(await get(u, `${P}/users/${manager.id}/roles`), 404);
    expectError(await del(admin, `${P}/users/${admin.id}/roles/${BUILTIN_ROLE_IDS.admin}`), 409);
  });
});

const createAgentRaw = (u: User) => api('/api/v1/agents', { token: u.token, json: { name: 'a', model_config: { provider: 'mock', model_name: 'mock-1' } } });

describe('resource grants', () => {
  it('a grant opens exactly its level on exactly that agent, and revoking closes it', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const agent = await createAgent(owner, { name: 'shared' });
    const other = await createAgent(owner, { name: 'not shared' });
    const path = `/api/v1/agents/${agent.id}`;

    expectError(await get(friend, path), 404);
    const r = await grant(owner, { resource_type: 'agent', resource_id: agent.id, user_id: friend.id, level: 'read' });
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ resource_type: 'agent', resource_id: agent.id, user_id: friend.id, user_email: friend.email, level: 'read', granted_by: owner.id });
    expect(await notificationsOf(friend.id)).toEqual([expect.objectContaining({ type: 'resource_shared', resource_type: 'agent', resource_id: agent.id })]);

    // read: get, export, list — not change, not delete, not the other agent.
    expect((await get(friend, path)).status).toBe(200);
    expect((await get(friend, `${path}/export`)).status).toBe(200);
    expect((await get(friend, '/api/v1/agents')).body.items.map((a: any) => a.id)).toEqual([agent.id]);
    expectError(await put(friend, path, { name: 'hijacked' }), 403, 'FORBIDDEN');
    expectError(await post(friend, `${path}/deploy`), 403);
    expectError(await del(friend, path), 403);
    expectError(await get(friend, `/api/v1/agents/${other.id}`), 404);
    expectError(await grant(friend, { resource_type: 'agent', resource_id: agent.id, user_id: friend.id, level: 'admin' }), 403);

    // write (granting again changes the level): change yes, delete and share no.
    const w = await grant(owner, { resource_type: 'agent', resource_id: agent.id, user_id: friend.id, level: 'write' });
    expect(w.body).toMatchObject({ id: r.body.id, level: 'write' });
    const renamed = await put(friend, path, { name: 'renamed by friend' });
    expect(renamed.body).toMatchObject({ name: 'renamed by friend', owner_id: owner.id, version: 2 });
    expectError(await del(friend, path), 403);
    const third = await createUser();
    expectError(await grant(friend, { resource_type: 'agent', resource_id: agent.id, user_id: third.id, level: 'read' }), 403);

    // admin: may share onwards and see who has access.
    await grant(owner, { resource_type: 'agent', resource_id: agent.id, user_id: friend.id, level: 'admin' });
    expect((await grant(friend, { resource_type: 'agent', resource_id: agent.id, user_id: third.id, level: 'read' })).status).toBe(201);
    const list = await get(friend, `${P}/resources/agent/${agent.id}/grants`);
    expect(list.body.items.map((g: any) => [g.user_id, g.level])).toEqual([
      [friend.id, 'admin'],
      [third.id, 'read'],
    ]);
    expectError(await get(third, `${P}/resources/agent/${agent.id}/grants`), 403);

    // Revoking closes everything again.
    expect((await del(owner, `${P}/grants/${r.body.id}`)).status).toBe(204);
    expectError(await get(friend, path), 404);
    expectError(await put(friend, path, { name: 'again' }), 404);
    expect((await get(friend, '/api/v1/agents')).body.total).toBe(0);
    expect(await count('SELECT count(*) AS n FROM resource_grants WHERE user_id = ?', friend.id)).toBe(0);
  });

  it('execute level on a goal: read and run, not change; tasks follow their goal', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const goal = await createGoal(owner, { description: 'one\ntwo' });
    const task = await createTask(owner, goal.id);
    await grant(owner, { resource_type: 'goal', resource_id: goal.id, user_id: friend.id, level: 'execute' });
    expect((await get(friend, `/api/v1/goals/${goal.id}`)).status).toBe(200);
    expect((await get(friend, `/api/v1/tasks/${task.id}`)).status).toBe(200);
    expect((await get(friend, `/api/v1/tasks?goal_id=${goal.id}`)).body.total).toBe(1);
    expectError(await put(friend, `/api/v1/goals/${goal.id}`, { title: 'x' }), 403);
    expectError(await put(friend, `/api/v1/tasks/${task.id}`, { title: 'x' }), 403);
    expectError(await post(friend, '/api/v1/tasks', { goal_id: goal.id, title: 'new' }), 403);
    expectError(await del(friend, `/api/v1/goals/${goal.id}`), 403);
    const stranger = await createUser();
    expectError(await get(stranger, `/api/v1/tasks/${task.id}`), 404);
    expectError(await post(stranger, '/api/v1/tasks', { goal_id: goal.id, title: 'new' }), 422);
  });

  it('knowledge bases: a read grant lists and reads, does not change; revoking closes it', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const kb = (await post(owner, '/api/v1/knowledge-bases', { name: 'handbook' })).body;
    expectError(await get(friend, `/api/v1/knowledge-bases/${kb.id}`), 404);
    const g = await grant(owner, { resource_type: 'knowledge_base', resource_id: kb.id, user_id: friend.id, level: 'read' });
    expect(g.status, g.text).toBe(201);
    expect((await get(friend, `/api/v1/knowledge-bases/${kb.id}`)).body.name).toBe('handbook');
    expect((await get(friend, '/api/v1/knowledge-bases')).body.items.map((k: any) => k.id)).toEqual([kb.id]);
    expectError(await put(friend, `/api/v1/knowledge-bases/${kb.id}`, { name: 'mine' }), 403);
    expectError(await del(friend, `/api/v1/knowledge-bases/${kb.id}`), 403);
    expect((await del(owner, `${P}/grants/${g.body.id}`)).status).toBe(204);
    expectError(await get(friend, `/api/v1/knowledge-bases/${kb.id}`), 404);
    expect((await del(owner, `/api/v1/knowledge-bases/${kb.id}`)).status).toBe(204);
  });

  it('deleting a resource removes its grants', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const agent = await createAgent(owner);
    const goal = await createGoal(owner);
    await grant(owner, { resource_type: 'agent', resource_id: agent.id, user_id: friend.id, level: 'read' });
    await grant(owner, { resource_type: 'goal', resource_id: goal.id, user_id: friend.id, level: 'read' });
    expect((await del(owner, `/api/v1/agents/${agent.id}`)).status).toBe(204);
    expect((await del(owner, `/api/v1/goals/${goal.id}`)).status).toBe(204);
    expect(await count('SELECT count(*) AS n FROM resource_grants WHERE user_id = ?', friend.id)).toBe(0);
  });

  it('validation, scoping and not-found of grants', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const agent = await createAgent(owner);
    const base = { resource_type: 'agent', resource_id: agent.id, user_id: friend.id, level: 'read' };
    expectError(await grant(owner, { ...base, level: 'owner' }), 422);
    expectError(await grant(owner, { ...base, resource_type: 'file' }), 422);
    expect(expectError(await grant(owner, { ...base, user_id: crypto.randomUUID() }), 422).message).toContain('body.user_id');
    expect(expectError(await grant(owner, { ...base, user_id: owner.id }), 422).message).toContain('owner');
    expectError(await grant(owner, { ...base, resource_id: crypto.randomUUID() }), 404);
    expectError(await grant(friend, base), 404); // not theirs: it does not exist for them
    expectError(await grant(owner, { ...base, resource_type: 'workflow', resource_id: crypto.randomUUID() }), 404);
    expectError(await api(`${P}/grants`, { method: 'POST', json: base }), 401);

    const g = (await grant(owner, base)).body;
    const mine = await get(friend, `${P}/users/${friend.id}/grants`);
    expect(mine.body).toMatchObject({ total: 1, items: [{ id: g.id }] });
    expect((await get(friend, `${P}/users/${friend.id}/grants?resource_type=goal`)).body.total).toBe(0);
    expectError(await get(owner, `${P}/users/${friend.id}/grants`), 404);
    expect((await get(admin, `${P}/users/${friend.id}/grants`)).body.total).toBe(1);
    expectError(await get(friend, `${P}/users/${friend.id}/grants?resource_type=x`), 422);
    expectError(await api(`${P}/users/${friend.id}/grants`), 401);
    expectError(await get(friend, `${P}/resources/agent/${crypto.randomUUID()}/grants`), 404);
    expectError(await get(friend, `${P}/resources/nope/${agent.id}/grants`), 422);

    const stranger = await createUser();
    expectError(await del(stranger, `${P}/grants/${g.id}`), 404);
    expectError(await del(owner, `${P}/grants/${crypto.randomUUID()}`), 404);
    // The grantee may leave.
    expect((await del(friend, `${P}/grants/${g.id}`)).status).toBe(204);
  });
});

describe('check and authorize()', () => {
  it('explains each decision: owner, admin, grant, role, not_found, insufficient_level', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const agent = await createAgent(owner);
    const c = (u: User, body: Record<string, unknown>) => post(u, `${P}/check`, { resource_type: 'agent', resource_id: agent.id, ...body });
    expect((await c(owner, { action: 'admin' })).body).toMatchObject({ allowed: true, reason: 'owner', level: 'admin', user_id: owner.id });
    expect((await c(admin, { action: 'admin' })).body).toMatchObject({ allowed: true, reason: 'admin' });
    expect((await c(friend, { action: 'read' })).body).toMatchObject({ allowed: false, reason: 'not_found', level: null });
    await grant(owner, { resource_type: 'agent', resource_id: agent.id, user_id: friend.id, level: 'execute' });
    expect((await c(friend, { action: 'execute' })).body).toMatchObject({ allowed: true, reason: 'grant', level: 'execute' });
    expect((await c(friend, { action: 'write' })).body).toMatchObject({ allowed: false, reason: 'insufficient_level', level: 'execute' });
    const role = await post(admin, `${P}/roles`, { name: 'agent editors', permissions: ['agent:write'] });
    await post(admin, `${P}/users/${friend.id}/roles`, { role_id: role.body.id });
    expect((await c(friend, { action: 'write' })).body).toMatchObject({ allowed: true, reason: 'role', level: 'write' });
    expect((await c(admin, { action: 'write', user_id: friend.id })).body).toMatchObject({ allowed: true, user_id: friend.id });
    expectError(await c(owner, { action: 'read', user_id: friend.id }), 404);
    expectError(await c(owner, { action: 'own' }), 422);
    expectError(await api(`${P}/check`, { method: 'POST', json: { resource_type: 'agent', resource_id: agent.id, action: 'read' } }), 401);

    // The function itself: 404 / 403 / the decision.
    const asUser = (u: User, role: 'admin' | 'user' = 'user') => ({ id: u.id, email: u.email, nickname: 'n', role });
    const stranger = await createUser();
    await expect(authorize(env, asUser(stranger), 'agent', agent.id, 'read')).rejects.toMatchObject({ status: 404 });
    await expect(authorize(env, asUser(friend), 'agent', agent.id, 'admin')).rejects.toMatchObject({ status: 403 });
    expect(await authorize(env, asUser(friend), 'agent', agent.id, 'write')).toMatchObject({ allowed: true, owner_id: owner.id });
    await expect(authorize(env, asUser(owner), 'knowledge_base', crypto.randomUUID(), 'read')).rejects.toMatchObject({ status: 404 });
  });
});

describe('list conditions for stores', () => {
  it('readableWhere keeps own and granted rows, per level; grantsCleanup deletes a resource\'s grants', async () => {
    const owner = await createUser();
    const friend = await createUser();
    const mine = await createAgent(friend);
    const [read, run, other] = [await createAgent(owner), await createAgent(owner), await createAgent(owner)];
    await grant(owner, { resource_type: 'agent', resource_id: read.id, user_id: friend.id, level: 'read' });
    await grant(owner, { resource_type: 'agent', resource_id: run.id, user_id: friend.id, level: 'execute' });
    const who = { id: friend.id, email: friend.email, nickname: 'friend', role: 'user' as const };
    const ids = [mine.id, read.id, run.id, other.id];
    for (const level of ['read', 'execute', 'admin'] as const) {
      const where = await readableWhere(env, who, 'agent', { ownerId: agents.ownerId, id: agents.id }, level);
      const viaDrizzle = await db(env.DB).select({ id: agents.id }).from(agents).where(where);
      const seen = (rows: Array<{ id: string }>) => rows.map((r) => r.id).filter((id) => ids.includes(id)).sort();
      expect(seen(viaDrizzle)).toEqual({ read: [mine.id, read.id, run.id], execute: [mine.id, run.id], admin: [mine.id] }[level].sort());
    }
    expect(await readableWhere(env, { ...who, id: admin.id, role: 'admin' }, 'agent', { ownerId: agents.ownerId, id: agents.id })).toBeUndefined();
    await runBatch(env.DB, [grantsCleanup(env.DB, 'agent', read.id)]);
    expect(await count('SELECT count(*) AS n FROM resource_grants WHERE resource_id = ?', read.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM resource_grants WHERE resource_id = ?', run.id)).toBe(1);
  });
});
