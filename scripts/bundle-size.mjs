// Builds the worker exactly as `wrangler deploy` would (offline, --dry-run) and checks the bundle
// against the budget: at most 1 MiB gzipped (Cloudflare's free plan allows 3 MiB).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET_GZIP = 1024 * 1024;
rmSync('dist', { recursive: true, force: true });
execFileSync('wrangler', ['deploy', '--dry-run', '--outdir', 'dist', '--env', 'production'], { stdio: ['ignore', 'ignore', 'inherit'] });
// The upload is the script plus its extra modules (the sandbox's QuickJS .wasm); count them all.
const files = readdirSync('dist').filter((f) => !f.endsWith('.map') && f !== 'README.md');
let raw = 0;
let gz = 0;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
for (const f of files) {
  const data = readFileSync(`dist/${f}`);
  const z = gzipSync(data, { level: 9 }).length;
  raw += data.length;
  gz += z;
  if (files.length > 1) console.log(`  ${f}: ${kib(data.length)} raw, ${kib(z)} gzipped`);
}
console.log(`worker bundle: ${kib(raw)} raw, ${kib(gz)} gzipped (budget ${kib(BUDGET_GZIP)} gzipped)`);
if (gz > BUDGET_GZIP) {
  console.error('worker bundle is over budget');
  process.exit(1);
}
