import { and, eq } from 'drizzle-orm';
import { db } from '../../../db/client';
import { uploads } from '../../../db/schema/uploads';

/** The uploads table (the bytes live in R2 under `storageKey`). */
export type UploadRow = typeof uploads.$inferSelect;

export async function insertUpload(d1: D1Database, values: typeof uploads.$inferInsert): Promise<UploadRow> {
  const [row] = await db(d1).insert(uploads).values(values).returning();
  return row;
}

export async function findUpload(d1: D1Database, id: string): Promise<UploadRow | null> {
  return (await db(d1).select().from(uploads).where(eq(uploads.id, id)).get()) ?? null;
}

/** Where an owner's upload is stored and how large it is; null when it is not theirs or is gone. */
export async function findOwnedUpload(d1: D1Database, id: string, ownerId: string): Promise<Pick<UploadRow, 'id' | 'storageKey' | 'size'> | null> {
  const row = await db(d1)
    .select({ id: uploads.id, storageKey: uploads.storageKey, size: uploads.size })
    .from(uploads)
    .where(and(eq(uploads.id, id), eq(uploads.ownerId, ownerId)))
    .get();
  return row ?? null;
}
