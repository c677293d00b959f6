import { db, runBatch } from '../../../db/client';
import { batches, batchItems } from '../../../db/schema/batch';

export type BatchItemRow = typeof batchItems.$inferSelect;

/** A batch and its items, written together. */
export async function insertBatch(d1: D1Database, batch: { id: string; ownerId: string }, items: Array<Omit<BatchItemRow, 'batchId'>>): Promise<void> {
  await runBatch(d1, [
    db(d1).insert(batches).values({ ...batch, itemCount: items.length }),
    ...items.map((it) => db(d1).insert(batchItems).values({ ...it, batchId: batch.id })),
  ]);
}
