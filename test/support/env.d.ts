import type { D1Migration } from '@cloudflare/vitest-plugin';
import type { Env as WorkerEnv } from '../../src/env';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** The local fake of outside services (test/fakes/server.ts). */
      FAKE_BASE_URL: string;
      /** JSON of test/services.ts: the real PostgreSQL, MySQL and Redis servers. */
      TEST_SERVICES: string;
    }
    interface GlobalProps {
      mainModule: typeof import('../../src/index');
    }
  }
}
