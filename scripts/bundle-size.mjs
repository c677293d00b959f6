// Builds the worker exactly as `wrangler deploy` would (offline, --dry-run) and checks the bundle.
// Two lines: the project's budget (1 MiB gzipped) is reported, and going over it is printed as a
// warning; Cloudflare's free-plan limit (3 MiB gzipped), past which a deploy is refused, fails.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET_GZIP = 1024 * 1024;
const FREE_PLAN_LIMIT_GZIP = 3 * 1024 * 1024;
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
if (gz > FREE_PLAN_LIMIT_GZIP) {
  console.error(`worker bundle exceeds the free plan's ${kib(FREE_PLAN_LIMIT_GZIP)}: wrangler deploy would be refused`);
  process.exit(1);
}
if (gz > BUDGET_GZIP) console.warn(`WARNING: ${kib(gz - BUDGET_GZIP)} over the 1 MiB budget (pdf.js for PDF ingestion is the largest part)`);
