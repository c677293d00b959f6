import { importOpenApi, requiredSettings, type ImportedSpec, type PluginAuth, type PluginOperation } from '../../engine/plugins/openapi';
import { pluginToolRef } from '../../engine/plugins/tools';
import type { Env } from '../../env';
import { isAdmin, type AuthUser } from '../../lib/auth';
import { encryptSecret } from '../../lib/crypto';
import { isUniqueViolation, likeContains } from '../../lib/d1';
import { conflict, forbidden, notFound, validationError } from '../../lib/errors';
import { checkOutboundUrl } from '../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../lib/pagination';
import { getSecret } from '../../lib/secrets';

interface PluginRow {
  id: string;
  owner_id: string;
  name: string;
  slug: string;
  description: string;
  category: string;
  version: string;
  kind: 'openapi';
  base_url: string;
  auth: string;
  operations: string;
  spec: string;
  is_published: number;
  install_count: number;
  created_at: string;
  updated_at: string;
  inst_enabled: number | null;
  inst_fields: string | null;
  inst_created_at: string | null;
}

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
const SELECT = `SELECT p.*, i.enabled AS inst_enabled, i.settings_hint AS inst_fields, i.created_at AS inst_created_at
  FROM plugins p LEFT JOIN plugin_installations i ON i.plugin_id = p.id AND i.user_id = ?1`;

function present(row: PluginRow) {
  const auth = JSON.parse(row.auth) as PluginAuth;
  return {
    id: row.id,
    owner_id: row.owner_id,
    name: row.name,
    slug: row.slug,
    description: row.description,
    category: row.category,
    version: row.version,
    kind: row.kind,
    base_url: row.base_url,
    auth,
    required_settings: requiredSettings(auth),
    operations: (JSON.parse(row.operations) as PluginOperation[]).map((op) => ({
      name: op.name,
      tool_ref: pluginToolRef(row.id, op.name),
      tool_name: `${row.slug}__${op.name}`.slice(0, 64),
      description: op.description,
      method: op.method,
      path: op.path,
      parameters: op.parameters,
    })),
    is_published: row.is_published === 1,
    install_count: row.install_count,
    installation:
      row.inst_enabled === null ? null : { enabled: row.inst_enabled === 1, settings_fields: JSON.parse(row.inst_fields ?? '[]') as string[], installed_at: row.inst_created_at! },
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const slugOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 24) || 'plugin';

function parseSpec(env: Env, doc: Record<string, unknown>): ImportedSpec {
  const spec = importOpenApi(doc);
  // The server is where every call goes: it must pass the SSRF guard now and at each call.
  checkOutboundUrl(env, spec.base_url);
  return spec;
}

/** Settings: exactly what the scheme needs, all present; stored as one encrypted JSON. */
async function sealSettings(env: Env, auth: PluginAuth, settings: Record<string, string>, field: string) {
  const needed = requiredSettings(auth);
  const extra = Object.keys(settings).filter((k) => !needed.includes(k));
  if (extra.length) throw validationError(`${field}: unknown setting${extra.length > 1 ? 's' : ''} ${extra.join(', ')} (this plugin takes: ${needed.join(', ') || 'none'})`);
  const fields = Object.keys(settings).sort();
  if (!fields.length) return { encrypted: null, hint: '[]' };
  return { encrypted: await encryptSecret(JSON.stringify(settings), await getSecret(env, 'ENCRYPTION_KEY')), hint: JSON.stringify(fields) };
}

async function load(env: Env, user: AuthUser, id: string): Promise<PluginRow | null> {
  return env.DB.prepare(`${SELECT} WHERE p.id = ?2`).bind(user.id, id).first<PluginRow>();
}

/** Visible: your own, published ones, and ones you installed (even if since unpublished). */
async function visible(env: Env, user: AuthUser, id: string): Promise<PluginRow> {
  const row = await load(env, user, id);
  if (!row || (row.owner_id !== user.id && row.is_published !== 1 && row.inst_enabled === null && !isAdmin(user))) throw notFound('Plugin');
  return row;
}

async function owned(env: Env, user: AuthUser, id: string): Promise<PluginRow> {
  const row = await visible(env, user, id);
  if (row.owner_id !== user.id && !isAdmin(user)) throw forbidden('Only the plugin’s owner or an admin may change it');
  return row;
}

export async function getPlugin(env: Env, user: AuthUser, id: string) {
  return present(await visible(env, user, id));
}

function filters(q: { search?: string; category?: string }, binds: unknown[]) {
  const where: string[] = [];
  if (q.category) {
    binds.push(q.category);
    where.push(`p.category = ?${binds.length}`);
  }
  if (q.search) {
    binds.push(likeContains(q.search));
    where.push(`(p.name LIKE ?${binds.length} ESCAPE '\\' OR p.description LIKE ?${binds.length} ESCAPE '\\')`);
  }
  return where;
}

async function page(env: Env, where: string[], binds: unknown[], order: string, q: Pagination) {
  const clause = where.join(' AND ');
  const { limit, offset } = pageBounds(q);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`${SELECT} WHERE ${clause} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`).bind(...binds),
    env.DB.prepare(`SELECT count(*) AS n FROM plugins p LEFT JOIN plugin_installations i ON i.plugin_id = p.id AND i.user_id = ?1 WHERE ${clause}`).bind(...binds),
  ]);
  return paginated((rows.results as unknown as PluginRow[]).map(present), (count.results[0] as { n: number }).n, q);
}

/** Your plugins: the ones you made and the ones you installed. */
export async function listPlugins(env: Env, user: AuthUser, q: Pagination & { search?: string; category?: string }) {
  const binds: unknown[] = [user.id];
  return page(env, ['(p.owner_id = ?1 OR i.id IS NOT NULL)', ...filters(q, binds)], binds, 'p.created_at DESC, p.id', q);
}

/** The plugin market: published plugins, most installed first. */
export async function marketPlugins(env: Env, user: AuthUser, q: Pagination & { search?: string; category?: string }) {
  const binds: unknown[] = [user.id];
  return page(env, ['p.is_published = 1', ...filters(q, binds)], binds, 'p.install_count DESC, p.created_at DESC, p.id', q);
}

const recount = (env: Env, pluginId: string) =>
  env.DB.prepare('UPDATE plugins SET install_count = (SELECT count(*) FROM plugin_installations WHERE plugin_id = ?1) WHERE id = ?1').bind(pluginId);

export async function createPlugin(
  env: Env,
  user: AuthUser,
  body: { openapi: Record<string, unknown>; name?: string; description?: string; category: string; is_published: boolean; settings: Record<string, string> },
) {
  const spec = parseSpec(env, body.openapi);
  const sealed = await sealSettings(env, spec.auth, body.settings, 'body.settings');
  const id = crypto.randomUUID();
  const name = body.name ?? spec.title;
  // The plugin and its owner's installation are one write.
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO plugins (id, owner_id, name, slug, description, category, version, base_url, auth, operations, spec, is_published)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).bind(
      id,
      user.id,
      name,
      slugOf(name),
      body.description ?? spec.description,
      body.category,
      spec.version,
      spec.base_url,
      JSON.stringify(spec.auth),
      JSON.stringify(spec.operations),
      JSON.stringify(body.openapi),
      body.is_published ? 1 : 0,
    ),
    env.DB.prepare('INSERT INTO plugin_installations (id, plugin_id, user_id, settings_encrypted, settings_hint) VALUES (?, ?, ?, ?, ?)').bind(
      crypto.randomUUID(),
      id,
      user.id,
      sealed.encrypted,
      sealed.hint,
    ),
    recount(env, id),
  ]);
  return getPlugin(env, user, id);
}

export async function updatePlugin(
  env: Env,
  user: AuthUser,
  id: string,
  body: { openapi?: Record<string, unknown>; name?: string; description?: string; category?: string; is_published?: boolean },
) {
  const row = await owned(env, user, id);
  const spec = body.openapi ? parseSpec(env, body.openapi) : null;
  if (spec && JSON.stringify(spec.auth) !== row.auth) {
    // Installers' stored credentials were given for the old scheme.
    throw validationError('body.openapi: the security scheme changed; publish the new scheme as a new plugin');
  }
  const name = body.name ?? row.name;
  await env.DB.prepare(
    `UPDATE plugins SET name = ?, slug = ?, description = ?, category = ?, is_published = ?, version = ?, base_url = ?, operations = ?, spec = ?, updated_at = ${NOW} WHERE id = ?`,
  )
    .bind(
      name,
      slugOf(name),
      body.description ?? row.description,
      body.category ?? row.category,
      body.is_published === undefined ? row.is_published : body.is_published ? 1 : 0,
      spec?.version ?? row.version,
      spec?.base_url ?? row.base_url,
      spec ? JSON.stringify(spec.operations) : row.operations,
      body.openapi ? JSON.stringify(body.openapi) : row.spec,
      id,
    )
    .run();
  return getPlugin(env, user, id);
}

export async function deletePlugin(env: Env, user: AuthUser, id: string) {
  await owned(env, user, id);
  await env.DB.batch([env.DB.prepare('DELETE FROM plugin_installations WHERE plugin_id = ?').bind(id), env.DB.prepare('DELETE FROM plugins WHERE id = ?').bind(id)]);
}

/** Installs a published plugin (or your own) with your own credentials; once per user. */
export async function installPlugin(env: Env, user: AuthUser, id: string, settings: Record<string, string>) {
  const row = await load(env, user, id);
  if (!row || (row.is_published !== 1 && row.owner_id !== user.id)) throw notFound('Plugin');
  if (row.inst_enabled !== null) throw conflict('The plugin is already installed');
  const sealed = await sealSettings(env, JSON.parse(row.auth), settings, 'body.settings');
  try {
    await env.DB.batch([
      env.DB.prepare('INSERT INTO plugin_installations (id, plugin_id, user_id, settings_encrypted, settings_hint) VALUES (?, ?, ?, ?, ?)').bind(
        crypto.randomUUID(),
        id,
        user.id,
        sealed.encrypted,
        sealed.hint,
      ),
      recount(env, id),
    ]);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('The plugin is already installed');
    throw e;
  }
  return getPlugin(env, user, id);
}

async function installed(env: Env, user: AuthUser, id: string): Promise<PluginRow> {
  const row = await load(env, user, id);
  if (!row || row.inst_enabled === null) throw notFound('Plugin installation');
  return row;
}

export async function uninstallPlugin(env: Env, user: AuthUser, id: string) {
  await installed(env, user, id);
  await env.DB.batch([env.DB.prepare('DELETE FROM plugin_installations WHERE plugin_id = ? AND user_id = ?').bind(id, user.id), recount(env, id)]);
}

export async function setEnabled(env: Env, user: AuthUser, id: string, enabled: boolean, settings?: Record<string, string>) {
  const row = await installed(env, user, id);
  if (settings) {
    const sealed = await sealSettings(env, JSON.parse(row.auth), settings, 'body.settings');
    await env.DB.prepare(`UPDATE plugin_installations SET enabled = ?, settings_encrypted = ?, settings_hint = ?, updated_at = ${NOW} WHERE plugin_id = ? AND user_id = ?`)
      .bind(enabled ? 1 : 0, sealed.encrypted, sealed.hint, id, user.id)
      .run();
  } else {
    await env.DB.prepare(`UPDATE plugin_installations SET enabled = ?, updated_at = ${NOW} WHERE plugin_id = ? AND user_id = ?`).bind(enabled ? 1 : 0, id, user.id).run();
  }
  return getPlugin(env, user, id);
}
