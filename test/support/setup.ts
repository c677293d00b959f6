import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll } from 'vitest';
import { checkRecordedResponses } from './openapi-check';

// Storage is isolated per test file; each file starts from the migrated schema.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// Every response the file's tests saw must be what the OpenAPI document says (docs/api-conventions.md).
afterAll(async () => {
  const problems = await checkRecordedResponses();
  if (problems.length) throw new Error(`Responses the OpenAPI document does not describe (${problems.length}):\n${problems.join('\n')}`);
});
