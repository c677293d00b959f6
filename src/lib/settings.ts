import { eq } from 'drizzle-orm';
import { db, now } from '../db/client';
import { systemSettings } from '../db/schema/settings';

/**
 * The store of system_settings: platform-held key-value settings (generated development secrets,
 * the Feishu default agent). It lives in lib/ because secrets are needed below every module.
 */

export async function getSetting(d1: D1Database, key: string): Promise<string | null> {
  const [row] = await db(d1).select({ value: systemSettings.value }).from(systemSettings).where(eq(systemSettings.key, key));
  return row?.value ?? null;
}

/** Sets a setting, replacing its value (and update time) when it exists. */
export async function putSetting(d1: D1Database, key: string, value: string): Promise<void> {
  await db(d1)
    .insert(systemSettings)
    .values({ key, value })
    .onConflictDoUpdate({ target: systemSettings.key, set: { value, updatedAt: now() } });
}

export async function deleteSetting(d1: D1Database, key: string): Promise<void> {
  await db(d1).delete(systemSettings).where(eq(systemSettings.key, key));
}

/** Sets a setting unless it exists (the value already there wins a race). */
export async function insertSettingIfMissing(d1: D1Database, key: string, value: string): Promise<void> {
  await db(d1).insert(systemSettings).values({ key, value }).onConflictDoNothing();
}
