import { discoverMcpServer, mcpSlugOf, type McpServerMeta, type McpToolDef } from '../../../engine/plugins/mcp';
import { importOpenApi, requiredSettings, type ImportedSpec, type PluginAuth, type PluginOperation } from '../../../engine/plugins/openapi';
import { pluginToolRef } from '../../../engine/plugins/tools';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { decryptSecret, encryptSecret } from '../../../lib/crypto';
import { isUniqueViolation } from '../../../lib/d1';
import { runBatch, type Statement } from '../../../db/client';
import { conflict, forbidden, notFound, validationError } from '../../../lib/errors';
import { checkOutboundUrl } from '../../../lib/outbound';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { getSecret } from '../../../lib/secrets';
import type { CreatePluginInput, UpdatePluginInput } from './schemas';
import * as store from './store';
import type { PluginRow } from './store';

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
    owner_id: row.ownerId,
    name: row.name,
    slug: row.slug,
    description: row.description,
    category: row.category,
    version: row.version,
    kind: row.kind,
    base_url: row.baseUrl,
    auth,
    required_settings: requiredSettings(auth),
    operations: operationsOf(row),
    mcp: row.kind === 'mcp' ? (JSON.parse(row.spec) as McpServerMeta) : null,
    is_published: row.isPublished === 1,
    install_count: row.installCount,
    installation:
      row.instEnabled === null ? null : { enabled: row.instEnabled === 1, settings_fields: JSON.parse(row.instFields ?? '[]') as string[], installed_at: row.instCreatedAt! },
    created_at: row.createdAt,
    updated_at: row.updatedAt,
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
  return store.findPlugin(env.DB, user.id, id);
}

/** Visible: your own, published ones, and ones you installed (even if since unpublished). */
async function visible(env: Env, user: AuthUser, id: string): Promise<PluginRow> {
  const row = await load(env, user, id);
  if (!row || (row.ownerId !== user.id && row.isPublished !== 1 && row.instEnabled === null && !isAdmin(user))) throw notFound('Plugin');
  return row;
}

async function owned(env: Env, user: AuthUser, id: string): Promise<PluginRow> {
  const row = await visible(env, user, id);
  if (row.ownerId !== user.id && !isAdmin(user)) throw forbidden('Only the plugin’s owner or an admin may change it');
  return row;
}

export async function getPlugin(env: Env, user: AuthUser, id: string) {
  return present(await visible(env, user, id));
}

type PluginQuery = Pagination & store.PluginFilters;

/** Your plugins: the ones you made and the ones you installed. */
export async function listPlugins(env: Env, user: AuthUser, q: PluginQuery) {
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listOwnOrInstalled(env.DB, user.id, q, limit, offset);
  return paginated(rows.map(present), total, q);
}

/** The plugin market: published plugins, most installed first. */
export async function marketPlugins(env: Env, user: AuthUser, q: PluginQuery) {
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listPublished(env.DB, user.id, q, limit, offset);
  return paginated(rows.map(present), total, q);
}

export async function createPlugin(env: Env, user: AuthUser, body: CreatePluginInput) {
  return body.kind === 'mcp' ? createMcpPlugin(env, user, body) : createOpenApiPlugin(env, user, body);
}

const insertPlugin = (
  env: Env,
  p: { id: string; owner: string; name: string; slug: string; description: string; category: string; version: string; kind: 'openapi' | 'mcp'; base_url: string; auth: PluginAuth; operations: unknown; spec: unknown; published: boolean },
) =>
  store.insertPlugin(env.DB, {
    id: p.id,
    ownerId: p.owner,
    name: p.name,
    slug: p.slug,
    description: p.description,
    category: p.category,
    version: p.version,
    kind: p.kind,
    baseUrl: p.base_url,
    auth: JSON.stringify(p.auth),
    operations: JSON.stringify(p.operations),
    spec: JSON.stringify(p.spec),
    isPublished: p.published ? 1 : 0,
  });

async function createOpenApiPlugin(env: Env, user: AuthUser, body: Extract<CreatePluginInput, { kind: 'openapi' }>) {
  const spec = parseSpec(env, body.openapi);
  const sealed = await sealSettings(env, spec.auth, body.settings, 'body.settings');
  const id = crypto.randomUUID();
  const name = body.name ?? spec.title;
  // The plugin and its owner's installation are one write.
  await runBatch(env.DB, [
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
    store.insertInstallation(env.DB, id, user.id, sealed),
    store.recountInstalls(env.DB, id),
  ]);
  return getPlugin(env, user, id);
}

/**
 * MCP tool names carry the plugin's slug (`mcp_<slug>_<tool>`), so a user's installed MCP
 * plugins must have distinct slugs, their own and the ones they installed alike.
 */
async function assertMcpSlugFree(env: Env, userId: string, slug: string) {
  const taken = await store.installedMcpNameWithSlug(env.DB, userId, slug);
  if (taken !== null) throw conflict(`You already have an MCP plugin whose tools are named mcp_${slug}_… ("${taken}")`);
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
  await runBatch(env.DB, [
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
    store.insertInstallation(env.DB, id, user.id, sealed),
    store.recountInstalls(env.DB, id),
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
  await store.updatePlugin(env.DB, id, {
    name,
    slug: slugOf(name),
    description: body.description ?? row.description,
    category: body.category ?? row.category,
    isPublished: body.is_published === undefined ? row.isPublished : body.is_published ? 1 : 0,
    version: spec?.version ?? row.version,
    baseUrl: spec?.base_url ?? row.baseUrl,
    operations: spec ? JSON.stringify(spec.operations) : row.operations,
    spec: body.openapi ? JSON.stringify(body.openapi) : row.spec,
  });
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
    const url = body.url ?? row.baseUrl;
    if (body.url !== undefined) checkOutboundUrl(env, url);
    if (body.headers !== undefined) {
      newAuth = mcpAuth(body.headers);
      const sameNames = [...(auth.headers ?? [])].sort().join('\n') === [...(newAuth.headers ?? [])].sort().join('\n');
      const others = await store.countOtherInstallers(env.DB, row.id, user.id);
      // Installers' stored values were given for the old header names.
      if (!sameNames && others) throw validationError('body.headers: other users installed this plugin with values for its current header names; keep the same names');
      sealed = await sealSettings(env, newAuth, body.headers, 'body.headers');
    }
    const headers = body.headers ?? (row.instSettings ? (JSON.parse(await decryptSecret(row.instSettings, await getSecret(env, 'ENCRYPTION_KEY'))) as Record<string, string>) : {});
    found = await discoverMcpServer(env, row.slug, { url, headers });
  }
  const writes: Statement[] = [
    store.updatePlugin(env.DB, row.id, {
      name: body.name ?? row.name,
      description: body.description ?? row.description,
      category: body.category ?? row.category,
      isPublished: body.is_published === undefined ? row.isPublished : body.is_published ? 1 : 0,
      version: found?.version ?? row.version,
      baseUrl: body.url ?? row.baseUrl,
      auth: JSON.stringify(newAuth),
      operations: found ? JSON.stringify(found.tools) : row.operations,
      spec: found ? JSON.stringify(found.meta) : row.spec,
    }),
  ];
  // New headers are the updater's own values: they replace their installation's settings.
  if (sealed && row.instEnabled !== null) {
    writes.push(store.updateInstallation(env.DB, row.id, user.id, { settingsEncrypted: sealed.encrypted, settingsHint: sealed.hint }));
  }
  await runBatch(env.DB, writes);
  return getPlugin(env, user, row.id);
}

export async function deletePlugin(env: Env, user: AuthUser, id: string) {
  await owned(env, user, id);
  await runBatch(env.DB, store.deletePluginStatements(env.DB, id));
}

/** Installs a published plugin (or your own) with your own credentials; once per user. */
export async function installPlugin(env: Env, user: AuthUser, id: string, settings: Record<string, string>) {
  const row = await load(env, user, id);
  if (!row || (row.isPublished !== 1 && row.ownerId !== user.id)) throw notFound('Plugin');
  if (row.instEnabled !== null) throw conflict('The plugin is already installed');
  if (row.kind === 'mcp') await assertMcpSlugFree(env, user.id, row.slug);
  const sealed = await sealSettings(env, JSON.parse(row.auth), settings, 'body.settings');
  try {
    await runBatch(env.DB, [store.insertInstallation(env.DB, id, user.id, sealed), store.recountInstalls(env.DB, id)]);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('The plugin is already installed');
    throw e;
  }
  return getPlugin(env, user, id);
}

async function installed(env: Env, user: AuthUser, id: string): Promise<PluginRow> {
  const row = await load(env, user, id);
  if (!row || row.instEnabled === null) throw notFound('Plugin installation');
  return row;
}

export async function uninstallPlugin(env: Env, user: AuthUser, id: string) {
  await installed(env, user, id);
  await runBatch(env.DB, [store.deleteInstallation(env.DB, id, user.id), store.recountInstalls(env.DB, id)]);
}

export async function setEnabled(env: Env, user: AuthUser, id: string, enabled: boolean, settings?: Record<string, string>) {
  const row = await installed(env, user, id);
  if (settings) {
    const sealed = await sealSettings(env, JSON.parse(row.auth), settings, 'body.settings');
    await store.updateInstallation(env.DB, id, user.id, { enabled: enabled ? 1 : 0, settingsEncrypted: sealed.encrypted, settingsHint: sealed.hint });
  } else {
    await store.updateInstallation(env.DB, id, user.id, { enabled: enabled ? 1 : 0 });
  }
  return getPlugin(env, user, id);
}
