import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { dirname } from 'node:path';
import { defineConfig } from 'vitest/config';
import { buildRuntime } from './scripts/build-runtime.mjs';
import { startFakeServer } from './test/support/fakes/server';
import { TEST_SERVICES } from './test/support/services';

export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations');
  const fake = await startFakeServer();
  // The runtime worker (QuickJS sandbox, pdf.js) runs beside the worker under test, reached
  // through the RUNTIME service binding of wrangler.toml as in production. Auxiliary workers are
  // pre-built JavaScript: built here (again only when workers/runtime changed).
  const runtime = buildRuntime('.build/runtime');
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          workers: [
            {
              name: 'tiangong-runtime',
              modules: runtime,
              modulesRoot: dirname(runtime[0].path),
              compatibilityDate: '2026-11-01',
              compatibilityFlags: ['nodejs_compat'],
            },
          ],
          bindings: {
            TEST_MIGRATIONS: migrations,
            FAKE_BASE_URL: fake.baseUrl,
            // Feishu against the fake open API (test/support/fakes/feishu.ts).
            FEISHU_APP_ID: 'cli_test',
            FEISHU_APP_SECRET: 'feishu-app-secret',
            FEISHU_VERIFICATION_TOKEN: 'feishu-verification-token',
            FEISHU_ENCRYPT_KEY: 'feishu-encrypt-key',
            FEISHU_API_BASE: `${fake.baseUrl}/feishu`,
            // The fakes and the real servers of scripts/test-services.sh (data-source tests).
            OUTBOUND_ALLOWED_HOSTS: [fake.hostPort, ...Object.values(TEST_SERVICES).map((s) => `${s.host}:${s.port}`)].join(','),
            TEST_SERVICES: JSON.stringify(TEST_SERVICES),
            // The one browser origin the MCP server's Origin check admits in tests.
            MCP_ALLOWED_ORIGINS: 'https://inspector.example.com',
          },
        },
      }),
    ],
    test: {
      include: ['test/**/*.test.ts'],
      setupFiles: ['./test/support/setup.ts'],
      testTimeout: 30_000,
    },
  };
});
