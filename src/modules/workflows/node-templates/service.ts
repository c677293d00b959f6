import { z } from 'zod';
import type { Env } from '../../../env';
import { nodeTypes } from '../../../engine/workflow/nodes';
import { parseConfig } from '../../../engine/workflow/validate';
import type { AuthUser } from '../../../lib/auth';
import { forbidden, notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { builtinNodeTemplates } from './builtin';

type Row = { id: string; owner_id: string; name: string; description: string; node_type: string; config: string; created_at: string; updated_at: string };

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

const toTemplate = (r: Row) => ({ ...r, builtin: false, config: JSON.parse(r.config) as Record<string, unknown> });

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
  const where = ['owner_id = ?'];
  const args: unknown[] = [user.id];
  if (q.node_type) (where.push('node_type = ?'), args.push(q.node_type));
  if (needle) {
    where.push("(lower(name) LIKE ? ESCAPE '\\' OR lower(description) LIKE ? ESCAPE '\\')");
    const like = `%${needle.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
    args.push(like, like);
  }
  const { limit, offset } = pageBounds(q);
  const fromBuiltin = builtin.slice(offset, offset + limit);
  const dbOffset = Math.max(0, offset - builtin.length);
  const dbLimit = limit - fromBuiltin.length;
  const [count, rows] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT count(*) AS n FROM node_templates WHERE ${where.join(' AND ')}`).bind(...args),
    env.DB.prepare(`SELECT * FROM node_templates WHERE ${where.join(' AND ')} ORDER BY updated_at DESC, id LIMIT ? OFFSET ?`).bind(...args, dbLimit, dbOffset),
  ]);
  const mine = dbLimit > 0 ? (rows.results as unknown as Row[]).map(toTemplate) : [];
  return paginated([...fromBuiltin, ...mine], builtin.length + (count.results[0] as { n: number }).n, q);
}

export async function get(env: Env, user: AuthUser, id: string) {
  if (id.startsWith(BUILTIN_PREFIX)) {
    const b = builtins.find((t) => t.id === id);
    if (!b) throw notFound('Node template');
    return b;
  }
  const row = await env.DB.prepare('SELECT * FROM node_templates WHERE id = ? AND owner_id = ?').bind(id, user.id).first<Row>();
  if (!row) throw notFound('Node template');
  return toTemplate(row);
}

export async function create(env: Env, user: AuthUser, body: { name: string; description: string; node_type: string; config: Record<string, unknown> }) {
  checkConfig(body.node_type, body.config);
  const id = crypto.randomUUID();
  await env.DB.prepare('INSERT INTO node_templates (id, owner_id, name, description, node_type, config) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(id, user.id, body.name, body.description, body.node_type, JSON.stringify(body.config))
    .run();
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
  await env.DB.prepare(
    "UPDATE node_templates SET name = ?, description = ?, config = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ? AND owner_id = ?",
  )
    .bind(body.name ?? cur.name, body.description ?? cur.description, JSON.stringify(config), id, user.id)
    .run();
  return get(env, user, id);
}

export async function remove(env: Env, user: AuthUser, id: string) {
  if (id.startsWith(BUILTIN_PREFIX)) {
    await get(env, user, id);
    throw forbidden('Builtin node templates cannot be deleted');
  }
  const res = await env.DB.prepare('DELETE FROM node_templates WHERE id = ? AND owner_id = ?').bind(id, user.id).run();
  if (res.meta.changes === 0) throw notFound('Node template');
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
