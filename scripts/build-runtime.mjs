// Builds the runtime worker (workers/runtime: QuickJS sandbox and pdf.js) exactly as `wrangler
// deploy` would, offline (--dry-run), into an output directory: index.js and its extra modules
// (the QuickJS .wasm, named "<hash>-wasm"). The tests and the benchmark run it beside the API
// worker as a Miniflare auxiliary worker, which must be pre-built JavaScript.
//
//   node scripts/build-runtime.mjs [outdir] [--env production]
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RUNTIME_CONFIG = join(ROOT, 'workers/runtime/wrangler.toml');
// What the build reads: newer than the last build means building again.
const INPUTS = ['workers/runtime', 'src/engine/sandbox/types.ts', 'package-lock.json'];

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

/**
 * Builds into `outdir` (absolute or relative to the project) unless a build there is newer than
 * every input. Returns the Miniflare module list of the build: the script, then its wasm modules.
 */
export function buildRuntime(outdir = '.build/runtime', { env, force = false } = {}) {
  const out = resolve(ROOT, outdir);
  const script = join(out, 'index.js');
  const fresh = !force && existsSync(script) && statSync(script).mtimeMs > Math.max(...INPUTS.map((p) => newestMtime(join(ROOT, p))));
  if (!fresh) {
    rmSync(out, { recursive: true, force: true });
    // wrangler resolves a relative --outdir against the config's folder: pass it absolute.
    const args = ['deploy', '--dry-run', '--outdir', out, '-c', RUNTIME_CONFIG, '--env', env ?? ''];
    execFileSync(join(ROOT, 'node_modules/.bin/wrangler'), args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return runtimeModules(out);
}

/** The built script and its extra modules, in Miniflare's `modules` shape. */
export function runtimeModules(outdir) {
  const out = resolve(ROOT, outdir);
  const wasm = readdirSync(out).filter((f) => f.endsWith('-wasm') || f.endsWith('.wasm'));
  return [{ type: 'ESModule', path: join(out, 'index.js') }, ...wasm.map((f) => ({ type: 'CompiledWasm', path: join(out, f) }))];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const envIndex = process.argv.indexOf('--env');
  const env = envIndex > 0 ? process.argv[envIndex + 1] : undefined;
  const outdir = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--env');
  for (const m of buildRuntime(outdir, { env, force: true })) console.log(`${m.type} ${m.path}`);
}
