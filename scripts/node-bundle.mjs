// Bundles worker source for Node (esbuild), with `cloudflare:workers` shimmed: how the scripts that
// read the worker's code outside workerd (the route table, the startup profile) load it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Bundles `entry` (e.g. src/index.ts) into `outfile`, an ES module Node can import. */
export function bundleForNode(entry, outfile) {
  const dir = dirname(outfile);
  mkdirSync(dir, { recursive: true });
  const shim = join(dir, 'cloudflare-workers-shim.mjs');
  writeFileSync(
    shim,
    'export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }\n' +
      'export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }\n' +
      'export const env = {};\n',
  );
  execFileSync(
    'esbuild',
    [entry, '--bundle', '--platform=node', '--format=esm', `--outfile=${outfile}`, `--alias:cloudflare:workers=${shim}`,
      '--external:cloudflare:sockets', '--conditions=workerd,worker,browser', '--log-level=error'],
    { stdio: 'inherit' },
  );
  return outfile;
}
