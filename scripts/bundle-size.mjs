// npm run build:check — builds both workers exactly as `wrangler deploy --env production` would
// (offline, --dry-run) and checks their bundles, raw and gzipped (script plus extra modules):
//   - tiangong (the API worker, dist/api): the project's budget of 1 MiB gzipped;
//   - tiangong-runtime (QuickJS sandbox and pdf.js, dist/runtime): Cloudflare's free-plan limit
//     of 3 MiB gzipped, past which a deploy is refused.
// Either over its limit fails the check. `node scripts/bundle-composition.mjs dist/api` (or
// dist/runtime) then tells what a bundle is made of.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { buildRuntime } from './build-runtime.mjs';

const MiB = 1024 * 1024;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

function measure(dir) {
  // The upload is the script plus its extra modules (the QuickJS .wasm); count them all.
  const files = readdirSync(dir).filter((f) => !f.endsWith('.map') && f !== 'README.md' && !f.endsWith('.json'));
  let raw = 0;
  let gz = 0;
  const lines = [];
  for (const f of files) {
    const data = readFileSync(`${dir}/${f}`);
    const z = gzipSync(data, { level: 9 }).length;
    raw += data.length;
    gz += z;
    lines.push(`    ${f}: ${kib(data.length)} raw, ${kib(z)} gzipped`);
  }
  return { raw, gz, lines: files.length > 1 ? lines : [] };
}

rmSync('dist', { recursive: true, force: true });
execFileSync('wrangler', ['deploy', '--dry-run', '--outdir', 'dist/api', '--env', 'production'], { stdio: ['ignore', 'ignore', 'inherit'] });
buildRuntime('dist/runtime', { env: 'production', force: true });

const workers = [
  { name: 'tiangong (API worker)', dir: 'dist/api', limit: MiB, what: "the project's 1 MiB budget" },
  { name: 'tiangong-runtime (sandbox, pdf.js)', dir: 'dist/runtime', limit: 3 * MiB, what: "the free plan's 3 MiB limit" },
];
let failed = false;
for (const w of workers) {
  const m = measure(w.dir);
  console.log(`${w.name}: ${kib(m.raw)} raw, ${kib(m.gz)} gzipped (limit ${kib(w.limit)} gzipped)`);
  for (const line of m.lines) console.log(line);
  if (m.gz > w.limit) {
    console.error(`  FAIL: ${kib(m.gz - w.limit)} over ${w.what} — see node scripts/bundle-composition.mjs ${w.dir}`);
    failed = true;
  }
}
if (failed) process.exit(1);
