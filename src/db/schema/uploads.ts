// Tables of the uploads module (its store alone reads and writes them).
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt } from './columns';
import { users } from './auth';

/** Files uploaded to the workspace; the bytes live in R2 under `storage_key`, never under the user's name. */
export const uploads = sqliteTable(
  'uploads',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The sanitised original name (no directories, no control characters). */
    filename: text('filename').notNull(),
    /** Decided from the bytes. */
    contentType: text('content_type').notNull(),
    declaredType: text('declared_type'),
    size: integer('size').notNull(),
    sha256: text('sha256').notNull(),
    storageKey: text('storage_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('uploads_owner_idx').on(t.ownerId, t.createdAt)],
);
