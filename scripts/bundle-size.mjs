// Builds the worker exactly as `wrangler deploy` would (offline, --dry-run) and checks the bundle
// against the budget: at most 1 MiB gzipped (Cloudflare's free plan allows 3 MiB).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET_GZIP = 1024 * 1024;
rmSync('dist', { recursive: true, force: true });
execFileSync('wrangler', ['deploy', '--dry-run', '--outdir', 'dist', '--env', 'production'], { stdio: ['ignore', 'ignore', 'inherit'] });
const code = readFileSync('dist/index.js');
const gz = gzipSync(code, { level: 9 }).length;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`worker bundle: ${kib(code.length)} raw, ${kib(gz)} gzipped (budget ${kib(BUDGET_GZIP)} gzipped)`);
if (gz > BUDGET_GZIP) {
  console.error('worker bundle is over budget');
  process.exit(1);
}
