import { defineConfig } from 'drizzle-kit';

// Migrations are generated here and applied by wrangler (dev, deploy) and applyD1Migrations (tests).
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema/index.ts',
  out: './migrations',
});
