// Tables of the data-sources module (its store alone reads and writes them).
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * External data sources. `config` holds the non-secret connection settings (host, port,
 * database, bucket, ...); `credentials_encrypted` the secret ones (password, keys), AES-GCM
 * encrypted and never returned — only which credential fields are set.
 */
export const dataSources = sqliteTable(
  'data_sources',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    type: text('type').notNull(),
    config: text('config').notNull(),
    credentialsEncrypted: text('credentials_encrypted'),
    credentialFields: text('credential_fields').notNull().default('[]'),
    lastTestedAt: text('last_tested_at'),
    lastTestOk: integer('last_test_ok'),
    lastTestError: text('last_test_error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('data_sources_owner_idx').on(t.ownerId, t.createdAt)],
);
