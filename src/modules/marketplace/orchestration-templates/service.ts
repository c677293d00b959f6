import { topologicalOrder } from '../../../engine/orchestration';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { forbidden, notFound, validationError } from '../../../lib/errors';
import { paginated, paginateArray, type Pagination } from '../../../lib/pagination';
import { builtinTemplates, findBuiltinTemplate, USAGE } from './builtin';
import type { CreateTemplate, Template } from './schemas';
import * as store from './store';

function present(row: store.TemplateRow): Template {
  const config = JSON.parse(row.config) as { steps?: string[]; rounds?: number; edges?: Array<{ source: string; target: string }> };
  return {
    id: row.id,
    owner_id: row.ownerId,
    builtin: false,
    name: row.name,
    description: row.description,
    mode: row.mode as Template['mode'],
    roles: JSON.parse(row.roles),
    steps: config.steps ?? null,
    rounds: config.rounds ?? null,
    edges: config.edges ?? null,
    usage: USAGE,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

type Shape = Pick<Template, 'mode' | 'roles' | 'steps' | 'rounds' | 'edges'>;

/** What each mode needs, checked against the roles; keeps only the settings the mode uses. */
function normalise(t: Shape): { steps?: string[]; rounds?: number; edges?: Array<{ source: string; target: string }> } {
  const keys = t.roles.map((r) => r.key);
  if (new Set(keys).size !== keys.length) throw validationError('body.roles: role keys must be unique');
  const known = new Set(keys);
  switch (t.mode) {
    case 'sequential': {
      const steps = t.steps ?? keys;
      const unknown = steps.filter((s) => !known.has(s));
      if (unknown.length) throw validationError(`body.steps: unknown role${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
      return { steps };
    }
    case 'route':
      if (keys.length < 2) throw validationError('body.roles: a route template needs at least two roles to choose from');
      return {};
    case 'debate':
      if (keys.length < 2) throw validationError('body.roles: a debate needs at least two roles');
      return { rounds: t.rounds ?? 2 };
    case 'graph': {
      const edges = t.edges ?? [];
      // The engine's own check: edges between known roles, no cycle (422 naming the problem).
      topologicalOrder(keys, edges);
      return { edges };
    }
  }
}

async function loadOwn(env: Env, user: AuthUser, id: string): Promise<store.TemplateRow> {
  const row = await store.findTemplate(env.DB, id);
  if (!row || (row.ownerId !== user.id && !isAdmin(user))) throw notFound('Orchestration template');
  return row;
}

/** A template the user may use: a builtin one or their own (404 otherwise). For the orchestrate endpoints too. */
export async function getTemplate(env: Env, user: AuthUser, id: string): Promise<Template> {
  return findBuiltinTemplate(id) ?? present(await loadOwn(env, user, id));
}

export async function listTemplates(env: Env, user: AuthUser, q: Pagination & { mode?: Template['mode']; scope: 'all' | 'builtin' | 'mine' }) {
  const builtins = q.scope === 'mine' ? [] : builtinTemplates.filter((t) => !q.mode || t.mode === q.mode);
  if (q.scope === 'builtin') return paginateArray(builtins, q);
  // Builtins first, then the user's own, newest first; the user's part is paged in SQL.
  const offset = (q.page - 1) * q.page_size;
  const ownOffset = Math.max(0, offset - builtins.length);
  const head = builtins.slice(offset, offset + q.page_size);
  const { rows, total } = await store.listOwnTemplates(env.DB, user.id, q.mode, q.page_size - head.length, ownOffset);
  const own = head.length < q.page_size ? rows.map(present) : [];
  return paginated([...head, ...own], builtins.length + total, q);
}

export async function createTemplate(env: Env, user: AuthUser, body: CreateTemplate) {
  const config = normalise({ mode: body.mode, roles: body.roles, steps: body.steps ?? null, rounds: body.rounds ?? null, edges: body.edges ?? null });
  const id = crypto.randomUUID();
  await store.insertTemplate(env.DB, { id, ownerId: user.id, name: body.name, description: body.description, mode: body.mode, roles: JSON.stringify(body.roles), config: JSON.stringify(config) });
  return getTemplate(env, user, id);
}

const readOnly = () => forbidden('Builtin templates cannot be changed; create your own from one');

export async function updateTemplate(
  env: Env,
  user: AuthUser,
  id: string,
  body: Partial<{ name: string; description: string; mode: Template['mode']; roles: Template['roles']; steps: string[] | null; rounds: number | null; edges: Template['edges'] }>,
) {
  if (findBuiltinTemplate(id)) throw readOnly();
  const current = present(await loadOwn(env, user, id));
  const next: Shape = {
    mode: body.mode ?? current.mode,
    roles: body.roles ?? current.roles,
    steps: body.steps !== undefined ? body.steps : current.steps,
    rounds: body.rounds !== undefined ? body.rounds : current.rounds,
    edges: body.edges !== undefined ? body.edges : current.edges,
  };
  const config = normalise(next);
  await store.updateTemplate(env.DB, id, {
    name: body.name ?? current.name,
    description: body.description ?? current.description,
    mode: next.mode,
    roles: JSON.stringify(next.roles),
    config: JSON.stringify(config),
  });
  return getTemplate(env, user, id);
}

export async function deleteTemplate(env: Env, user: AuthUser, id: string) {
  if (findBuiltinTemplate(id)) throw readOnly();
  await loadOwn(env, user, id);
  await store.deleteTemplate(env.DB, id);
}

/**
 * A template with an agent for each role, as the orchestrate endpoints take it: the agents in
 * step order (sequential), in role order (route, debate), or graph nodes named by role.
 */
export function expandTemplate(t: Template, assignments: Record<string, string>) {
  const missing = t.roles.map((r) => r.key).filter((k) => !assignments[k]);
  if (missing.length) throw validationError(`body.roles: assign an agent to ${missing.join(', ')}`);
  const extra = Object.keys(assignments).filter((k) => !t.roles.some((r) => r.key === k));
  if (extra.length) throw validationError(`body.roles: the template has no role ${extra.join(', ')}`);
  if (t.mode === 'graph') {
    return { mode: 'graph' as const, nodes: t.roles.map((r) => ({ id: r.key, agent_id: assignments[r.key] })), edges: t.edges ?? [] };
  }
  const order = t.mode === 'sequential' ? (t.steps ?? t.roles.map((r) => r.key)) : t.roles.map((r) => r.key);
  return { mode: t.mode, agent_ids: order.map((k) => assignments[k]), rounds: t.rounds ?? undefined };
}
