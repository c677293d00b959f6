import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { startFakeServer } from './test/fakes/server';
import { TEST_SERVICES } from './test/services';

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
            // Feishu against the fake open API (test/fakes/feishu.ts).
            FEISHU_APP_ID: 'cli_test',
            FEISHU_APP_SECRET: 'feishu-app-secret',
            FEISHU_VERIFICATION_TOKEN: 'feishu-verification-token',
            FEISHU_ENCRYPT_KEY: 'feishu-encrypt-key',
            FEISHU_API_BASE: `${fake.baseUrl}/feishu`,
            // The fakes and the real servers of scripts/test-services.sh (data-source tests).
            OUTBOUND_ALLOWED_HOSTS: [fake.hostPort, ...Object.values(TEST_SERVICES).map((s) => `${s.host}:${s.port}`)].join(','),
            TEST_SERVICES: JSON.stringify(TEST_SERVICES),
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
