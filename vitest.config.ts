import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { startFakeServer } from './test/fakes/server';

export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations');
  const fake = await startFakeServer();
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            FAKE_BASE_URL: fake.baseUrl,
            OUTBOUND_ALLOWED_HOSTS: fake.hostPort,
            // Feishu against the fake open API (test/fakes/feishu.ts).
            FEISHU_APP_ID: 'cli_test',
            FEISHU_APP_SECRET: 'feishu-app-secret',
            FEISHU_VERIFICATION_TOKEN: 'feishu-verification-token',
            FEISHU_ENCRYPT_KEY: 'feishu-encrypt-key',
            FEISHU_API_BASE: `${fake.baseUrl}/feishu`,
          },
        },
      }),
    ],
    test: {
      include: ['test/**/*.test.ts'],
      setupFiles: ['./test/setup.ts'],
      testTimeout: 30_000,
    },
  };
});
