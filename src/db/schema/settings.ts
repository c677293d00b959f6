// The platform's key-value settings, owned by src/lib/settings.ts: secrets are needed below every module.
import { sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { updatedAt } from './columns';

/** Platform-held values: generated development secrets, platform settings. */
export const systemSettings = sqliteTable('system_settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: updatedAt(),
});
