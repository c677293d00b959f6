import { and, asc, count, desc, eq, getTableColumns, isNotNull, ne, or, sql, type SQL } from 'drizzle-orm';
import { db, now, type Statement, likeContains } from '../../../db/client';
import { pluginInstallations, plugins } from '../../../db/schema/plugins';
import type { InstalledPlugin } from '../../../engine/plugins/tools';

/** The plugins and plugin_installations tables. */
export type PluginRecord = typeof plugins.$inferSelect;
export type PluginInstallationRow = typeof pluginInstallations.$inferSelect;

/** A plugin with the viewer's installation (all null when they have none). */
export type PluginRow = PluginRecord & {
  instEnabled: number | null;
  instFields: string | null;
  instCreatedAt: string | null;
  instSettings: string | null;
};

const withInstallation = {
  ...getTableColumns(plugins),
  instEnabled: pluginInstallations.enabled,
  instFields: pluginInstallations.settingsHint,
  // Aliased: in a D1 batch rows come back keyed by column name, and two `created_at` collide.
  instCreatedAt: sql<string | null>`${pluginInstallations.createdAt}`.as('inst_created_at'),
  instSettings: pluginInstallations.settingsEncrypted,
};

const viewerInstallation = (userId: string) => and(eq(pluginInstallations.pluginId, plugins.id), eq(pluginInstallations.userId, userId));

const selectFor = (d1: D1Database, userId: string) => db(d1).select(withInstallation).from(plugins).leftJoin(pluginInstallations, viewerInstallation(userId));

export async function findPlugin(d1: D1Database, userId: string, id: string): Promise<PluginRow | null> {
  const [row] = await selectFor(d1, userId).where(eq(plugins.id, id)).limit(1);
  return row ?? null;
}

export interface PluginFilters {
  search?: string;
  category?: string;
  kind?: string;
}

function filters(q: PluginFilters): SQL[] {
  const where: SQL[] = [];
  if (q.kind) where.push(eq(plugins.kind, q.kind as PluginRecord['kind']));
  if (q.category) where.push(eq(plugins.category, q.category));
  if (q.search) {
    where.push(or(likeContains(plugins.name, q.search), likeContains(plugins.description, q.search))!);
  }
  return where;
}

async function page(d1: D1Database, userId: string, where: SQL | undefined, order: SQL[], limit: number, offset: number) {
  const [rows, [{ total }]] = await db(d1).batch([
    selectFor(d1, userId).where(where).orderBy(...order).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(plugins).leftJoin(pluginInstallations, viewerInstallation(userId)).where(where),
  ]);
  return { rows: rows as PluginRow[], total };
}

/** The user's plugins: the ones they made and the ones they installed, newest first. */
export function listOwnOrInstalled(d1: D1Database, userId: string, q: PluginFilters, limit: number, offset: number) {
  const where = and(or(eq(plugins.ownerId, userId), isNotNull(pluginInstallations.id)), ...filters(q));
  return page(d1, userId, where, [desc(plugins.createdAt), asc(plugins.id)], limit, offset);
}

/** Published plugins, most installed first. */
export function listPublished(d1: D1Database, userId: string, q: PluginFilters, limit: number, offset: number) {
  const where = and(eq(plugins.isPublished, 1), ...filters(q));
  return page(d1, userId, where, [desc(plugins.installCount), desc(plugins.createdAt), asc(plugins.id)], limit, offset);
}

/** The name of the user's installed MCP plugin with this slug, if any. */
export async function installedMcpNameWithSlug(d1: D1Database, userId: string, slug: string): Promise<string | null> {
  const [row] = await db(d1)
    .select({ name: plugins.name })
    .from(pluginInstallations)
    .innerJoin(plugins, eq(plugins.id, pluginInstallations.pluginId))
    .where(and(eq(pluginInstallations.userId, userId), eq(plugins.kind, 'mcp'), eq(plugins.slug, slug)))
    .limit(1);
  return row?.name ?? null;
}

/** How many users other than `userId` installed the plugin. */
export async function countOtherInstallers(d1: D1Database, pluginId: string, userId: string): Promise<number> {
  const [{ n }] = await db(d1)
    .select({ n: count() })
    .from(pluginInstallations)
    .where(and(eq(pluginInstallations.pluginId, pluginId), ne(pluginInstallations.userId, userId)));
  return n;
}

export type NewPlugin = Pick<PluginRecord, 'id' | 'ownerId' | 'name' | 'slug' | 'description' | 'category' | 'version' | 'kind' | 'baseUrl' | 'auth' | 'operations' | 'spec' | 'isPublished'>;

export const insertPlugin = (d1: D1Database, p: NewPlugin) => db(d1).insert(plugins).values(p);

export const updatePlugin = (
  d1: D1Database,
  id: string,
  set: Partial<Pick<PluginRecord, 'name' | 'slug' | 'description' | 'category' | 'isPublished' | 'version' | 'baseUrl' | 'auth' | 'operations' | 'spec'>>,
) =>
  db(d1)
    .update(plugins)
    .set({ ...set, updatedAt: now() })
    .where(eq(plugins.id, id));

/** The install counter recomputed from the installations. */
export const recountInstalls = (d1: D1Database, pluginId: string) =>
  db(d1)
    .update(plugins)
    .set({ installCount: sql`(SELECT count(*) FROM ${pluginInstallations} WHERE ${pluginInstallations.pluginId} = ${pluginId})` })
    .where(eq(plugins.id, pluginId));

export const insertInstallation = (d1: D1Database, pluginId: string, userId: string, sealed: { encrypted: string | null; hint: string }) =>
  db(d1).insert(pluginInstallations).values({ id: crypto.randomUUID(), pluginId, userId, settingsEncrypted: sealed.encrypted, settingsHint: sealed.hint });

export const updateInstallation = (
  d1: D1Database,
  pluginId: string,
  userId: string,
  set: Partial<Pick<PluginInstallationRow, 'enabled' | 'settingsEncrypted' | 'settingsHint'>>,
) =>
  db(d1)
    .update(pluginInstallations)
    .set({ ...set, updatedAt: now() })
    .where(and(eq(pluginInstallations.pluginId, pluginId), eq(pluginInstallations.userId, userId)));

export const deleteInstallation = (d1: D1Database, pluginId: string, userId: string) =>
  db(d1)
    .delete(pluginInstallations)
    .where(and(eq(pluginInstallations.pluginId, pluginId), eq(pluginInstallations.userId, userId)));

/** A plugin and every installation of it. */
export const deletePluginStatements = (d1: D1Database, id: string): Statement[] => [
  db(d1).delete(pluginInstallations).where(eq(pluginInstallations.pluginId, id)),
  db(d1).delete(plugins).where(eq(plugins.id, id)),
];

// Installed, enabled plugins as the engine's plugin tools read them (injected through provideInstalledPlugins).
const installedColumns = {
  pluginId: plugins.id,
  kind: plugins.kind,
  name: plugins.name,
  slug: plugins.slug,
  category: plugins.category,
  baseUrl: plugins.baseUrl,
  auth: plugins.auth,
  operations: plugins.operations,
  settingsEncrypted: pluginInstallations.settingsEncrypted,
};

const installedFor = (d1: D1Database, userId: string, ...more: SQL[]) =>
  db(d1)
    .select(installedColumns)
    .from(pluginInstallations)
    .innerJoin(plugins, eq(plugins.id, pluginInstallations.pluginId))
    .where(and(eq(pluginInstallations.userId, userId), eq(pluginInstallations.enabled, 1), ...more));

/** Every plugin the user installed and enabled, in installation order. */
export function enabledInstalledPlugins(d1: D1Database, userId: string): Promise<InstalledPlugin[]> {
  return installedFor(d1, userId).orderBy(asc(pluginInstallations.createdAt), asc(plugins.id));
}

export async function enabledOpenApiPlugin(d1: D1Database, userId: string, pluginId: string): Promise<InstalledPlugin | null> {
  const [row] = await installedFor(d1, userId, eq(plugins.kind, 'openapi'), eq(plugins.id, pluginId)).limit(1);
  return row ?? null;
}

export async function enabledMcpPluginWithSlug(d1: D1Database, userId: string, slug: string): Promise<InstalledPlugin | null> {
  const [row] = await installedFor(d1, userId, eq(plugins.kind, 'mcp'), eq(plugins.slug, slug)).orderBy(asc(pluginInstallations.createdAt)).limit(1);
  return row ?? null;
}
