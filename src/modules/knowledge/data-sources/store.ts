import { and, count, desc, eq, or } from 'drizzle-orm';
import { db, now, likeContains } from '../../../db/client';
import { dataSources } from '../../../db/schema/data-sources';

/** The data_sources table (credentials encrypted, never returned). */
export type DataSourceRow = typeof dataSources.$inferSelect;

export async function findDataSource(d1: D1Database, id: string): Promise<DataSourceRow | null> {
  return (await db(d1).select().from(dataSources).where(eq(dataSources.id, id)).get()) ?? null;
}

/** A page of an owner's data sources (newest first), optionally of one type or matching a search in name or description. */
export async function listDataSources(
  d1: D1Database,
  ownerId: string,
  filter: { type?: string; search?: string },
  limit: number,
  offset: number,
): Promise<{ rows: DataSourceRow[]; total: number }> {
  const where = and(
    eq(dataSources.ownerId, ownerId),
    filter.type ? eq(dataSources.type, filter.type) : undefined,
    filter.search ? or(likeContains(dataSources.name, filter.search), likeContains(dataSources.description, filter.search)) : undefined,
  );
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(dataSources).where(where).orderBy(desc(dataSources.createdAt), desc(dataSources.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(dataSources).where(where),
  ]);
  return { rows, total };
}

export async function insertDataSource(d1: D1Database, values: typeof dataSources.$inferInsert): Promise<void> {
  await db(d1).insert(dataSources).values(values);
}

export async function updateDataSource(
  d1: D1Database,
  id: string,
  values: Pick<DataSourceRow, 'name' | 'description' | 'config' | 'credentialsEncrypted' | 'credentialFields'>,
): Promise<void> {
  await db(d1)
    .update(dataSources)
    .set({ ...values, updatedAt: now() })
    .where(eq(dataSources.id, id));
}

export async function deleteDataSource(d1: D1Database, id: string): Promise<void> {
  await db(d1).delete(dataSources).where(eq(dataSources.id, id));
}

/** Records the outcome of a connection test (the update time stays). */
export async function recordTest(d1: D1Database, id: string, ok: boolean, error: string | null): Promise<void> {
  await db(d1)
    .update(dataSources)
    .set({ lastTestedAt: now(), lastTestOk: ok ? 1 : 0, lastTestError: error })
    .where(eq(dataSources.id, id));
}
