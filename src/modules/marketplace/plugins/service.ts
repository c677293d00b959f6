import { discoverMcpServer, mcpSlugOf, type McpServerMeta, type McpToolDef } from '../../../engine/plugins/mcp';
import { importOpenApi, requiredSettings, type ImportedSpec, type PluginAuth, type PluginOperation } from '../../../engine/plugins/openapi';
import { pluginToolRef } from '../../../engine/plugins/tools';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { decryptSecret, encryptSecret } from '../../../lib/crypto';
import { isUniqueViolation, likeContains, NOW_SQL } from '../../../lib/d1';
import { conflict, forbidden, notFound, validationError } from '../../../lib/errors';
import { checkOutboundUrl } from '../../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { getSecret } from '../../../lib/secrets';
import type { CreatePluginInput, UpdatePluginInput } from './schemas';

interface PluginRow {
  id: string;
  owner_id: string;
  name: string;
  slug: string;
  description: string;
  category: string;
  version: string;
  kind: 'openapi' | 'mcp';
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
  inst_settings: string | null;
}

const SELECT = `SELECT p.*, i.enabled AS inst_enabled, i.settings_hint AS inst_fields, i.created_at AS inst_created_at, i.settings_encrypted AS inst_settings
  FROM plugins p LEFT JOIN plugin_installations i ON i.plugin_id = p.id AND i.user_id = ?1`;

function operationsOf(row: PluginRow) {
  if (row.kind === 'mcp') {
    return (JSON.parse(row.operations) as McpToolDef[]).map((t) => ({
      name: t.remote_name,
      tool_ref: t.name,
      tool_name: t.name,
      ...(t.title ? { title: t.title } : {}),
      description: t.description,
      parameters: t.input_schema,
    }));
  }
  return (JSON.parse(row.operations) as PluginOperation[]).map((op) => ({
    name: op.name,
    tool_ref: pluginToolRef(row.id, op.name),
    tool_name: `${row.slug}__${op.name}`.slice(0, 64),
    description: op.description,
    method: op.method,
    path: op.path,
    parameters: op.parameters,
  }));
}

function present(row: PluginRow) {
  const auth = JSON.parse(row.auth) as PluginAuth;
  // The installation's secrets never leave the service.
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
    operations: operationsOf(row),
    mcp: row.kind === 'mcp' ? (JSON.parse(row.spec) as McpServerMeta) : null,
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

function filters(q: { search?: string; category?: string; kind?: string }, binds: unknown[]) {
  const where: string[] = [];
  if (q.kind) {
    binds.push(q.kind);
    where.push(`p.kind = ?${binds.length}`);
  }
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
export async function listPlugins(env: Env, user: AuthUser, q: Pagination & { search?: string; category?: string; kind?: string }) {
  const binds: unknown[] = [user.id];
  return page(env, ['(p.owner_id = ?1 OR i.id IS NOT NULL)', ...filters(q, binds)], binds, 'p.created_at DESC, p.id', q);
}

/** The plugin market: published plugins, most installed first. */
export async function marketPlugins(env: Env, user: AuthUser, q: Pagination & { search?: string; category?: string; kind?: string }) {
  const binds: unknown[] = [user.id];
  return page(env, ['p.is_published = 1', ...filters(q, binds)], binds, 'p.install_count DESC, p.created_at DESC, p.id', q);
}

const recount = (env: Env, pluginId: string) =>
  env.DB.prepare('UPDATE plugins SET install_count = (SELECT count(*) FROM plugin_installations WHERE plugin_id = ?1) WHERE id = ?1').bind(pluginId);

export async function createPlugin(env: Env, user: AuthUser, body: CreatePluginInput) {
  return body.kind === 'mcp' ? createMcpPlugin(env, user, body) : createOpenApiPlugin(env, user, body);
}

const insertPlugin = (
  env: Env,
  p: { id: string; owner: string; name: string; slug: string; description: string; category: string; version: string; kind: string; base_url: string; auth: PluginAuth; operations: unknown; spec: unknown; published: boolean },
) =>
  env.DB.prepare(
    `INSERT INTO plugins (id, owner_id, name, slug, description, category, version, kind, base_url, auth, operations, spec, is_published)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).bind(p.id, p.owner, p.name, p.slug, p.description, p.category, p.version, p.kind, p.base_url, JSON.stringify(p.auth), JSON.stringify(p.operations), JSON.stringify(p.spec), p.published ? 1 : 0);

const insertInstallation = (env: Env, pluginId: string, userId: string, sealed: { encrypted: string | null; hint: string }) =>
  env.DB.prepare('INSERT INTO plugin_installations (id, plugin_id, user_id, settings_encrypted, settings_hint) VALUES (?, ?, ?, ?, ?)').bind(
    crypto.randomUUID(),
    pluginId,
    userId,
    sealed.encrypted,
    sealed.hint,
  );

async function createOpenApiPlugin(env: Env, user: AuthUser, body: Extract<CreatePluginInput, { kind: 'openapi' }>) {
  const spec = parseSpec(env, body.openapi);
  const sealed = await sealSettings(env, spec.auth, body.settings, 'body.settings');
  const id = crypto.randomUUID();
  const name = body.name ?? spec.title;
  // The plugin and its owner's installation are one write.
  await env.DB.batch([
    insertPlugin(env, {
      id,
      owner: user.id,
      name,
      slug: slugOf(name),
      description: body.description ?? spec.description,
      category: body.category,
      version: spec.version,
      kind: 'openapi',
      base_url: spec.base_url,
      auth: spec.auth,
      operations: spec.operations,
      spec: body.openapi,
      published: body.is_published,
    }),
    insertInstallation(env, id, user.id, sealed),
    recount(env, id),
  ]);
  return getPlugin(env, user, id);
}

/**
 * MCP tool names carry the plugin's slug (`mcp_<slug>_<tool>`), so a user's installed MCP
 * plugins must have distinct slugs, their own and the ones they installed alike.
 */
async function assertMcpSlugFree(env: Env, userId: string, slug: string) {
  const taken = await env.DB.prepare(
    "SELECT p.name FROM plugin_installations i JOIN plugins p ON p.id = i.plugin_id WHERE i.user_id = ? AND p.kind = 'mcp' AND p.slug = ?",
  )
    .bind(userId, slug)
    .first<{ name: string }>();
  if (taken) throw conflict(`You already have an MCP plugin whose tools are named mcp_${slug}_… ("${taken.name}")`);
}

const mcpAuth = (headers: Record<string, string>): PluginAuth => ({ type: 'headers', headers: Object.keys(headers) });

/** Connects first (initialize + tools/list): a server that cannot be reached is not saved. */
async function createMcpPlugin(env: Env, user: AuthUser, body: Extract<CreatePluginInput, { kind: 'mcp' }>) {
  checkOutboundUrl(env, body.url);
  const slug = mcpSlugOf(body.name);
  await assertMcpSlugFree(env, user.id, slug);
  const found = await discoverMcpServer(env, slug, { url: body.url, headers: body.headers });
  const auth = mcpAuth(body.headers);
  const sealed = await sealSettings(env, auth, body.headers, 'body.headers');
  const id = crypto.randomUUID();
  const serverInfo = found.meta.server_info;
  const description = body.description ?? (typeof serverInfo?.description === 'string' ? serverInfo.description.slice(0, 2000) : '');
  await env.DB.batch([
    insertPlugin(env, {
      id,
      owner: user.id,
      name: body.name,
      slug,
      description,
      category: body.category,
      version: found.version,
      kind: 'mcp',
      base_url: body.url,
      auth,
      operations: found.tools,
      spec: found.meta,
      published: body.is_published,
    }),
    insertInstallation(env, id, user.id, sealed),
    recount(env, id),
  ]);
  return getPlugin(env, user, id);
}

export async function updatePlugin(env: Env, user: AuthUser, id: string, body: UpdatePluginInput) {
  const row = await owned(env, user, id);
  if (row.kind === 'mcp') return updateMcpPlugin(env, user, row, body);
  const misplaced = (['url', 'headers', 'refresh'] as const).find((k) => body[k] !== undefined);
  if (misplaced) throw validationError(`body.${misplaced}: only MCP plugins take it; an OpenAPI plugin changes with a new document (body.openapi)`);
  const spec = body.openapi ? parseSpec(env, body.openapi) : null;
  if (spec && JSON.stringify(spec.auth) !== row.auth) {
    // Installers' stored credentials were given for the old scheme.
    throw validationError('body.openapi: the security scheme changed; publish the new scheme as a new plugin');
  }
  const name = body.name ?? row.name;
  await env.DB.prepare(
    `UPDATE plugins SET name = ?, slug = ?, description = ?, category = ?, is_published = ?, version = ?, base_url = ?, operations = ?, spec = ?, updated_at = ${NOW_SQL} WHERE id = ?`,
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

/**
 * Metadata changes are local; a new URL, new headers or `refresh: true` re-read the server's
 * tool list (with the new headers, else the updater's stored ones). The slug — hence the tool
 * names agents and workflows refer to — stays what it was at creation.
 */
async function updateMcpPlugin(env: Env, user: AuthUser, row: PluginRow, body: UpdatePluginInput) {
  if (body.openapi !== undefined) throw validationError('body.openapi: an MCP plugin has no OpenAPI document (change body.url or body.headers, or refresh)');
  const auth = JSON.parse(row.auth) as PluginAuth;
  let found: Awaited<ReturnType<typeof discoverMcpServer>> | null = null;
  let sealed: { encrypted: string | null; hint: string } | null = null;
  let newAuth = auth;
  if (body.url !== undefined || body.headers !== undefined || body.refresh) {
    const url = body.url ?? row.base_url;
    if (body.url !== undefined) checkOutboundUrl(env, url);
    if (body.headers !== undefined) {
      newAuth = mcpAuth(body.headers);
      const sameNames = [...(auth.headers ?? [])].sort().join('\n') === [...(newAuth.headers ?? [])].sort().join('\n');
      const others = await env.DB.prepare('SELECT count(*) AS n FROM plugin_installations WHERE plugin_id = ? AND user_id != ?').bind(row.id, user.id).first<number>('n');
      // Installers' stored values were given for the old header names.
      if (!sameNames && others) throw validationError('body.headers: other users installed this plugin with values for its current header names; keep the same names');
      sealed = await sealSettings(env, newAuth, body.headers, 'body.headers');
    }
    const headers = body.headers ?? (row.inst_settings ? (JSON.parse(await decryptSecret(row.inst_settings, await getSecret(env, 'ENCRYPTION_KEY'))) as Record<string, string>) : {});
    found = await discoverMcpServer(env, row.slug, { url, headers });
  }
  const writes = [
    env.DB.prepare(
      `UPDATE plugins SET name = ?, description = ?, category = ?, is_published = ?, version = ?, base_url = ?, auth = ?, operations = ?, spec = ?, updated_at = ${NOW_SQL} WHERE id = ?`,
    ).bind(
      body.name ?? row.name,
      body.description ?? row.description,
      body.category ?? row.category,
      body.is_published === undefined ? row.is_published : body.is_published ? 1 : 0,
      found?.version ?? row.version,
      body.url ?? row.base_url,
      JSON.stringify(newAuth),
      found ? JSON.stringify(found.tools) : row.operations,
      found ? JSON.stringify(found.meta) : row.spec,
      row.id,
    ),
  ];
  // New headers are the updater's own values: they replace their installation's settings.
  if (sealed && row.inst_enabled !== null) {
    writes.push(
      env.DB.prepare(`UPDATE plugin_installations SET settings_encrypted = ?, settings_hint = ?, updated_at = ${NOW_SQL} WHERE plugin_id = ? AND user_id = ?`).bind(
        sealed.encrypted,
        sealed.hint,
        row.id,
        user.id,
      ),
    );
  }
  await env.DB.batch(writes);
  return getPlugin(env, user, row.id);
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
  if (row.kind === 'mcp') await assertMcpSlugFree(env, user.id, row.slug);
  const sealed = await sealSettings(env, JSON.parse(row.auth), settings, 'body.settings');
  try {
    await env.DB.batch([insertInstallation(env, id, user.id, sealed), recount(env, id)]);
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
    await env.DB.prepare(`UPDATE plugin_installations SET enabled = ?, settings_encrypted = ?, settings_hint = ?, updated_at = ${NOW_SQL} WHERE plugin_id = ? AND user_id = ?`)
      .bind(enabled ? 1 : 0, sealed.encrypted, sealed.hint, id, user.id)
      .run();
  } else {
    await env.DB.prepare(`UPDATE plugin_installations SET enabled = ?, updated_at = ${NOW_SQL} WHERE plugin_id = ? AND user_id = ?`).bind(enabled ? 1 : 0, id, user.id).run();
  }
  return getPlugin(env, user, id);
}
