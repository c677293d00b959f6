import { z } from 'zod';
import type { Env } from '../../../env';
import { nodeTypes } from '../../../engine/workflow/nodes';
import { parseConfig } from '../../../engine/workflow/validate';
import type { AuthUser } from '../../../lib/auth';
import { forbidden, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { builtinNodeTemplates } from './builtin';
import { deleteNodeTemplate, findNodeTemplate, insertNodeTemplate, listNodeTemplates, updateNodeTemplate, type NodeTemplateRow } from './store';

const BUILTIN_PREFIX = 'builtin:';

const builtins = builtinNodeTemplates.map((t) => ({
  id: `${BUILTIN_PREFIX}${t.name}`,
  owner_id: null,
  builtin: true,
  name: t.name,
  description: t.description,
  node_type: t.node_type,
  config: structuredClone(t.config) as Record<string, unknown>,
  created_at: null,
  updated_at: null,
}));

const toTemplate = (r: NodeTemplateRow) => ({
  id: r.id,
  owner_id: r.ownerId,
  name: r.name,
  description: r.description,
  node_type: r.nodeType,
  config: JSON.parse(r.config) as Record<string, unknown>,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
  builtin: false,
});

function checkConfig(nodeType: string, config: Record<string, unknown>) {
  if (!nodeTypes[nodeType]) throw validationError(`body.node_type: unknown node type ${nodeType}`);
  const parsed = parseConfig({ id: 'template', type: nodeType, config });
  if (!parsed.ok) throw validationError(`body.${parsed.message}`);
}

export async function list(env: Env, user: AuthUser, q: Pagination & { node_type?: string; search?: string; source: 'all' | 'builtin' | 'mine' }) {
  const needle = q.search?.toLowerCase();
  const match = (t: { name: string; description: string; node_type: string }) =>
    (!q.node_type || t.node_type === q.node_type) && (!needle || t.name.toLowerCase().includes(needle) || t.description.toLowerCase().includes(needle));
  const builtin = q.source === 'mine' ? [] : builtins.filter(match);
  if (q.source === 'builtin') return paginated(builtin.slice((q.page - 1) * q.page_size, q.page * q.page_size), builtin.length, q);
  // Builtins first, then mine from D1 (paged past the builtins).
  const { limit, offset } = pageBounds(q);
  const fromBuiltin = builtin.slice(offset, offset + limit);
  const dbOffset = Math.max(0, offset - builtin.length);
  const dbLimit = limit - fromBuiltin.length;
  const { rows, total } = await listNodeTemplates(env.DB, { ownerId: user.id, nodeType: q.node_type, search: q.search, limit: dbLimit, offset: dbOffset });
  const mine = dbLimit > 0 ? rows.map(toTemplate) : [];
  return paginated([...fromBuiltin, ...mine], builtin.length + total, q);
}

export async function get(env: Env, user: AuthUser, id: string) {
  if (id.startsWith(BUILTIN_PREFIX)) {
    const b = builtins.find((t) => t.id === id);
    if (!b) throw notFound('Node template');
    return b;
  }
  const row = await findNodeTemplate(env.DB, user.id, id);
  if (!row) throw notFound('Node template');
  return toTemplate(row);
}

export async function create(env: Env, user: AuthUser, body: { name: string; description: string; node_type: string; config: Record<string, unknown> }) {
  checkConfig(body.node_type, body.config);
  const id = crypto.randomUUID();
  await insertNodeTemplate(env.DB, { id, ownerId: user.id, name: body.name, description: body.description, nodeType: body.node_type, config: JSON.stringify(body.config) });
  return get(env, user, id);
}

export async function update(env: Env, user: AuthUser, id: string, body: { name?: string; description?: string; config?: Record<string, unknown> }) {
  if (id.startsWith(BUILTIN_PREFIX)) {
    await get(env, user, id);
    throw forbidden('Builtin node templates cannot be changed; save a copy instead');
  }
  const cur = await get(env, user, id);
  const config = body.config ?? cur.config;
  if (body.config) checkConfig(cur.node_type, config);
  await updateNodeTemplate(env.DB, user.id, id, { name: body.name ?? cur.name, description: body.description ?? cur.description, config: JSON.stringify(config) });
  return get(env, user, id);
}

export async function remove(env: Env, user: AuthUser, id: string) {
  if (id.startsWith(BUILTIN_PREFIX)) {
    await get(env, user, id);
    throw forbidden('Builtin node templates cannot be deleted');
  }
  if (!(await deleteNodeTemplate(env.DB, user.id, id))) throw notFound('Node template');
}

let catalog: Array<{ type: string; description: string; terminal: boolean; has_body: boolean; config_schema: Record<string, unknown> }> | undefined;

/** Every node type with the JSON Schema of its config (for editors). */
export function nodeTypeCatalog() {
  catalog ??= Object.values(nodeTypes).map((t) => {
    let schema: Record<string, unknown> = {};
    try {
      schema = z.toJSONSchema(t.config, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
    } catch {
      schema = { type: 'object' };
    }
    return { type: t.type, description: t.description, terminal: !!t.terminal, has_body: !!t.bodies, config_schema: schema };
  });
  return { items: catalog };
}
