// The official MCP conformance suite (@modelcontextprotocol/conformance) against /api/v1/mcp, run by CI.
//
// Builds the worker as deployed, serves it with Miniflare (as the benchmarks do), seeds a user with an
// API key, a deployed agent, an active workflow and a knowledge-base document, and runs every server
// scenario of the suite. The suite's client sends no credentials, so it talks to a local proxy that
// adds the key to each request and passes everything else (Origin and Host included) through.
// Scenarios that need the suite's own reference tools, resources and prompts are listed in
// scripts/mcp-conformance-baseline.yml: the suite exits non-zero on any other failure, and on a
// listed scenario that passes (a stale baseline).
//
// Needs Node 22 (the suite's requirement): run it through npm (`npm run test:mcp-conformance`) or with
// node_modules/.bin first on PATH, which brings the pinned `node` devDependency.
import { execFileSync, spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startPlatform } from '../bench/harness.mjs';
import { api, newUser } from '../bench/client.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILD_DIR = 'dist/mcp-conformance';
const BASELINE = 'scripts/mcp-conformance-baseline.yml';
const SUITE = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

process.chdir(ROOT);
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`mcp-conformance: Node ${process.version}; the suite needs Node 22 (PATH="$PWD/node_modules/.bin:$PATH" node ${process.argv[1]})`);
  process.exit(2);
}

execFileSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', BUILD_DIR], { stdio: ['ignore', 'ignore', 'inherit'] });

/** Forwards every request to `target`, adding the API key; answers stream through unchanged. */
function startKeyProxy() {
  const state = { target: null, key: null };
  const server = createServer((req, res) => {
    const upstream = request(
      { host: state.target.hostname, port: state.target.port, method: req.method, path: req.url, headers: { ...req.headers, authorization: `Bearer ${state.key}` } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}`);
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, state, port: server.address().port })));
}

/** Why each check that did not pass (failures and warnings, expected or not) did not: the summary says only which. */
function printUnpassedChecks(dir) {
  const lines = [];
  let scenarios = 0;
  let passing = 0;
  for (const run of readdirSync(dir).sort()) {
    const checks = JSON.parse(readFileSync(join(dir, run, 'checks.json'), 'utf8'));
    scenarios++;
    if (checks.every((c) => c.status !== 'FAILURE' && c.status !== 'WARNING')) passing++;
    for (const c of checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')) {
      lines.push(`  ${c.status.padEnd(7)} ${c.id}: ${(c.errorMessage ?? c.details?.message ?? '').slice(0, 160)}`);
    }
  }
  if (lines.length) console.log(`\nChecks that did not pass (the baseline says which are expected):\n${lines.join('\n')}`);
  console.log(`\nmcp-conformance: ${passing} of ${scenarios} scenarios pass`);
}

const proxy = await startKeyProxy();
const proxyOrigin = `http://127.0.0.1:${proxy.port}`;
// The suite checks that its own localhost origin is served and a foreign one refused: the proxy's
// origin is the one browser origin this deployment allows.
const platform = await startPlatform(join(BUILD_DIR, 'index.js'), { runtime: false, bindings: { MCP_ALLOWED_ORIGINS: proxyOrigin } });
let exitCode = 1;
const outputDir = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
try {
  const ctx = { api: (path, init) => api(platform.url, path, init) };
  const user = await newUser(ctx, 'mcp');
  const { key } = await ctx.api('/api/v1/api-keys', { token: user.token, json: { name: 'mcp conformance' } });
  const agent = await ctx.api('/api/v1/agents', {
    token: user.token,
    json: { name: 'Echo', description: 'Echoes what it is told', system_prompt: 'You answer as a {{role}}.', model_config: { provider: 'mock', model_name: 'mock-1' } },
  });
  await ctx.api(`/api/v1/agents/${agent.id}/deploy`, { token: user.token, method: 'POST' });
  const kb = await ctx.api('/api/v1/knowledge-bases', { token: user.token, json: { name: 'Handbook' } });
  await ctx.api(`/api/v1/knowledge-bases/${kb.id}/documents`, { token: user.token, json: { title: 'Refunds', content: 'Refunds within 30 days.' } });
  proxy.state.target = new URL(platform.url);
  proxy.state.key = key;

  const suite = spawn(process.execPath, [SUITE, 'server', '--url', `${proxyOrigin}/api/v1/mcp`, '--expected-failures', BASELINE, '--output-dir', outputDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The suite's "N passed, N failed" lines count checks, expected failures included; CI reads lines of
  // that form as test results, so they are reworded (the exit code and the summary below decide).
  createInterface({ input: suite.stdout }).on('line', (line) =>
    console.log(line.replace(/(\d+) passed, (\d+) failed/, (_, p, f) => `${p} of ${Number(p) + Number(f)} checks passed`)),
  );
  exitCode = await new Promise((resolve) => suite.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  printUnpassedChecks(outputDir);
} catch (e) {
  console.error('mcp-conformance:', e);
} finally {
  await platform.mf.dispose();
  proxy.server.close();
  rmSync(outputDir, { recursive: true, force: true });
}
console.log(exitCode === 0 ? `mcp-conformance: OK, the others fail as ${BASELINE} expects` : `mcp-conformance: FAILED (exit ${exitCode}): a failure the baseline does not expect, or a listed scenario that now passes`);
process.exit(exitCode);
