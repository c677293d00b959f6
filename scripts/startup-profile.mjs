// node scripts/startup-profile.mjs [--rounds N] [--top K] [--skip-workerd] [--bundle index.js ...] [--first-request /path] [--breakdown]: what the API worker's
// global scope costs at startup (Cloudflare's startup limit is CPU spent evaluating it).
//  1. workerd: builds the worker as deployed (`wrangler deploy --dry-run --env production`) and
//     reports the median over N rounds of (new runtime → first answer) minus the same for a stub
//     worker with identical bindings — see measureGlobalScope in bench/harness.mjs.
//  2. Node, per module: bundles src/index.ts for Node (esbuild, `cloudflare:workers` shimmed), puts
//     a timestamp before each bundled module's top-level code (and around each lazily initialised
//     one's: esbuild wraps a dynamically imported module in an `__esm` init function, run when first
//     imported), evaluates it in N fresh processes and lists the K modules whose top level costs
//     most (median ms, calls made from it included, modules it initialises excluded), and the total
//     per package. Node's V8 is not workerd's, so read these as a ranking. Only what the global
//     scope evaluates counts: a module first imported by a request is not in the list.
// With --bundle, --first-request /api/v1/agents also times that request, first and second, in each
// new runtime after its first answer (GET /health): what a module router built on its first request
// costs that request (wall and workerd CPU).
// With --bundle, --breakdown also measures two workers made from each bundle, in the same rounds: the
// same code never run (imports hoisted, the rest in a function nobody calls: compiled, not evaluated)
// and a worker that does nothing but carry the bundle as a string (neither: what handing a script
// of that size to the runtime costs, mostly Miniflare's Node process encoding it into workerd's
// configuration). The differences split the global-scope figure into hand-over, compile and evaluation.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { durableObjectClasses, measureGlobalScope, median, startPlatform, workerdCpuMs } from '../bench/harness.mjs';
import { bundleForNode } from './node-bundle.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const rounds = arg('--rounds', 7);
const top = arg('--top', 25);
const OUT = resolve('dist/startup');
mkdirSync(OUT, { recursive: true });

// --bundle <built index.js> (repeatable): measure these builds instead, alternating round by round
// so that a loaded machine weighs on each alike (e.g. a build of main against a build of a branch).
const bundles = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--bundle' ? [resolve(a)] : []));
if (process.argv.includes('--breakdown')) bundles.push(...bundles.flatMap(breakdownOf));
const firstRequest = process.argv[process.argv.indexOf('--first-request') + 1];
if (bundles.length > 0 && process.argv.includes('--first-request')) {
  const timed = async (url) => {
    const cpu = workerdCpuMs();
    const t = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    return { ms: performance.now() - t, cpu: workerdCpuMs() - cpu, status: res.status };
  };
  const results = bundles.map(() => ({ first: [], second: [], firstCpu: [], secondCpu: [], status: 0 }));
  for (let i = 0; i < rounds; i++) {
    for (const [j, b] of bundles.entries()) {
      const p = await startPlatform(b, { migrate: false, runtime: false });
      await (await fetch(p.url + '/health')).text();
      const first = await timed(p.url + firstRequest);
      const second = await timed(p.url + firstRequest);
      await p.mf.dispose();
      Object.assign(results[j], { status: first.status });
      results[j].first.push(first.ms);
      results[j].firstCpu.push(first.cpu);
      results[j].second.push(second.ms);
      results[j].secondCpu.push(second.cpu);
    }
  }
  for (const [j, b] of bundles.entries()) {
    const r = results[j];
    console.log(
      `${b}: GET ${firstRequest} (${r.status}) after a new runtime's first answer: first ${median(r.first).toFixed(1)} ms (workerd CPU ${median(r.firstCpu).toFixed(0)} ms), second ${median(r.second).toFixed(1)} ms (CPU ${median(r.secondCpu).toFixed(0)} ms) (medians of ${rounds})`,
    );
  }
  process.exit(0);
}
if (bundles.length > 0) {
  const results = bundles.map(() => ({ ms: [], cpu: [] }));
  for (let i = 0; i < rounds; i++) {
    for (const [j, b] of bundles.entries()) {
      const r = await measureGlobalScope(b, 1, { warmUp: i === 0 && j === 0 });
      results[j].ms.push(r.globalScope);
      results[j].cpu.push(r.cpu);
    }
  }
  for (const [j, b] of bundles.entries()) {
    console.log(`${b}: global scope evaluation ${median(results[j].ms).toFixed(0)} ms, workerd CPU ${median(results[j].cpu).toFixed(0)} ms (medians of ${rounds})`);
  }
  process.exit(0);
}

if (!process.argv.includes('--skip-workerd')) {
  execFileSync('wrangler', ['deploy', '--dry-run', '--env', 'production', '--outdir', join(OUT, 'worker')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const r = await measureGlobalScope(join(OUT, 'worker', 'index.js'), rounds);
  console.log(
    `workerd: global scope evaluation ${r.globalScope.toFixed(0)} ms, workerd CPU ${r.cpu.toFixed(0)} ms (medians of ${r.rounds}; first answer ${r.platform.toFixed(0)} ms, identical-bindings stub ${r.stub.toFixed(0)} ms)\n`,
  );
}

// Node: one bundle with a mark before every module's top-level code (esbuild starts each one with a
// `// path` comment at column 0, which is always at the bundle's top level), and every `__esm` init
// function (a lazily initialised module's top-level code) timed from its entry to its exit.
const plain = bundleForNode('src/index.ts', join(OUT, 'node.mjs'));
const marked = join(OUT, 'node-marked.mjs');
// Runs once, after esbuild's helpers and before the first module: each init function reports entry and exit.
const timeInits =
  'if (typeof __esm === "function") { const __esmPlain = __esm; __esm = (fn) => { const name = Object.getOwnPropertyNames(fn)[0]; ' +
  'const init = __esmPlain(fn); let entered = false; return () => { if (entered) return init(); entered = true; globalThis.__enter(name); ' +
  'try { return init(); } finally { globalThis.__leave(); } }; }; }';
let first = true;
writeFileSync(
  marked,
  readFileSync(plain, 'utf8')
    .split('\n')
    .map((line) => {
      if (!/^\/\/ (src|durable-objects|node_modules|(\.\.\/)+\S*node_modules)\//.test(line)) return line;
      const mark = `globalThis.__mark(${JSON.stringify(line.slice(3))});\n${line}`;
      if (!first) return mark;
      first = false;
      return `${timeInits}\n${mark}`;
    })
    .join('\n') + '\nglobalThis.__mark("(end)");\n',
);
// Time goes to the innermost init function running, else to the module whose top-level code is running.
const runner = `
  const cost = {};
  const inits = [];
  let current;
  let last = performance.now();
  const charge = () => {
    const now = performance.now();
    const name = inits.at(-1) ?? current;
    if (name) cost[name] = (cost[name] ?? 0) + now - last;
    last = now;
  };
  globalThis.__mark = (name) => { charge(); current = name; };
  globalThis.__enter = (name) => { charge(); inits.push(name); };
  globalThis.__leave = () => { charge(); inits.pop(); };
  void globalThis.WebSocket; // Node loads its WebSocket on first use; workerd has one built in
  const t = performance.now();
  await import(${JSON.stringify(marked)});
  const total = performance.now() - t;
  delete cost['(end)'];
  console.log(JSON.stringify({ total, cost }));
`;
const runs = [];
// A worktree's node_modules (a link to another checkout's) is named by its relative path.
const named = (cost) => {
  const byName = {};
  for (const [m, ms] of Object.entries(cost)) {
    const name = m.replace(/^(\.\.\/)+\S*?node_modules\//, 'node_modules/');
    byName[name] = (byName[name] ?? 0) + ms;
  }
  return byName;
};
for (let i = 0; i < rounds; i++) {
  const run = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', runner], { encoding: 'utf8' }));
  runs.push({ total: run.total, cost: named(run.cost) });
}
const modules = Object.keys(runs[0].cost);
const perModule = modules.map((m) => [m, median(runs.map((r) => r.cost[m] ?? 0))]).sort((a, b) => b[1] - a[1]);
const packageOf = (m) => {
  if (!m.startsWith('node_modules/')) return '(project) ' + m.split('/').slice(0, m.startsWith('src/modules/') ? 4 : 2).join('/');
  const p = m.slice('node_modules/'.length).split('/');
  return p[0].startsWith('@') ? `${p[0]}/${p[1]}` : p[0];
};
const perPackage = new Map();
for (const [m, ms] of perModule) perPackage.set(packageOf(m), (perPackage.get(packageOf(m)) ?? 0) + ms);

const topLevel = median(runs.map((r) => Object.values(r.cost).reduce((a, b) => a + b, 0)));
const total = median(runs.map((r) => r.total));
console.log(
  `Node: import of the whole bundle ${total.toFixed(0)} ms (median of ${rounds}): ${modules.length} modules' top-level code ${topLevel.toFixed(0)} ms, the rest (reading, parsing, compiling, linking) ${(total - topLevel).toFixed(0)} ms`,
);
console.log(`\nTop ${top} modules by top-level evaluation (ms, median):`);
for (const [m, ms] of perModule.slice(0, top)) console.log(`${ms.toFixed(1).padStart(8)}  ${m}`);
console.log(`\nTop ${top} packages / project directories (ms, sum of medians):`);
for (const [p, ms] of [...perPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms.toFixed(1).padStart(8)}  ${p}`);

/**
 * `<bundle dir>/breakdown/{compile-only,same-size}/index.js` (see --breakdown above), each a worker
 * with the Durable Object classes and handlers of the stub measureGlobalScope compares with.
 */
function breakdownOf(bundle) {
  const code = readFileSync(bundle, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n');
  // esbuild's ES module output: import statements (anywhere at the top level), the code, one export list at the end.
  const importStatement = /import\s*(?:\{[^}]*\}|[\w$]+|\*\s*as\s*[\w$]+)\s*from\s*"[^"]+";?/g;
  const body = code.replace(importStatement, '');
  const stub =
    "import { DurableObject } from 'cloudflare:workers';\n" +
    [...durableObjectClasses()].map((c) => `export class ${c} extends DurableObject {}\n`).join('') +
    "export default { fetch() { return new Response('ok'); }, queue() {}, scheduled() {} };\n";
  const variants = {
    'compile-only': `${(code.match(importStatement) ?? []).join('\n')}\n${stub}function neverCalled() {${body.slice(0, body.lastIndexOf('export{'))}}\n`,
    'same-size': `${stub}globalThis.bundle = ${JSON.stringify(code)};\n`,
  };
  return Object.entries(variants).map(([name, text]) => {
    const dir = join(dirname(bundle), 'breakdown', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.js'), text);
    return join(dir, 'index.js');
  });
}
