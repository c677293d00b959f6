// npm run bench [-- <scenario> ...]: builds the worker, starts it on Miniflare, and runs the
// scenarios in bench/scenarios/ (all, or those named), each against the floor measured in the same run.
import { readdirSync } from 'node:fs';
import { buildWorker, formatRow, measure, measureGlobalScope, measureStartup, startHello, startPlatform } from './harness.mjs';
import { api } from './client.mjs';

const only = process.argv.slice(2);
const files = readdirSync(new URL('./scenarios/', import.meta.url))
  .filter((f) => f.endsWith('.mjs'))
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.mjs$/, '')))
  .sort();

const bundle = buildWorker();
console.log(`Tiangong benchmarks — ${new Date().toISOString()}, Node ${process.version}, concurrency 8, medians of 3 rounds\n`);

const startup = await measureStartup(bundle);
console.log(`startup (new runtime → first answer): platform ${startup.platform.toFixed(0)} ms, bare hello worker ${startup.floor.toFixed(0)} ms, difference ${(startup.platform - startup.floor).toFixed(0)} ms; runtime worker (sandbox, pdf.js) ${startup.runtime.toFixed(0)} ms, difference ${(startup.runtime - startup.floor).toFixed(0)} ms`);
// What Cloudflare's startup limit is about: evaluating the API worker's global scope (details and a
// per-module breakdown: node scripts/startup-profile.mjs).
const scope = await measureGlobalScope(bundle, 5);
console.log(`global scope evaluation: ${scope.globalScope.toFixed(0)} ms, workerd CPU ${scope.cpu.toFixed(0)} ms (medians of ${scope.rounds}; first answer ${scope.platform.toFixed(0)} ms, identical-bindings stub ${scope.stub.toFixed(0)} ms)\n`);

const platform = await startPlatform(bundle);
const hello = await startHello();
const floor = await measure(() => [hello.url + '/'], { requests: 2000 });
console.log(formatRow('floor: bare "hello" worker', floor));

const ctx = {
  url: platform.url,
  mf: platform.mf,
  floor,
  helloUrl: hello.url,
  api: (path, init) => api(platform.url, path, init),
  async http(name, makeRequest, options) {
    const r = await measure(makeRequest, options);
    console.log(formatRow(name, r, floor));
    return r;
  },
  print: (line) => console.log(line),
};

for (const file of files) {
  console.log(`\n# ${file.replace(/\.mjs$/, '')}`);
  const scenario = await import(new URL(`./scenarios/${file}`, import.meta.url));
  await scenario.default(ctx);
}

await platform.mf.dispose();
await hello.mf.dispose();
