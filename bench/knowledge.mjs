// Knowledge-base figures on the CMRC 2018 dev set (../shared/data/cmrc2018-dev): ingestion
// throughput through the real queue, recall@1/@5/@10 and MRR per retrieval mode, search latency
// p50/p99 per mode, and search latency at 10,000+ chunks.
//
// It starts the worker with `wrangler dev` on a free loopback port with a throw-away local state
// (D1, R2, Queues all local), talks to it over HTTP like a client, and stops it at the end.
//
//   node bench/knowledge.mjs                       # everything (about 10 minutes on 2 cores)
//   node bench/knowledge.mjs --queries 500         # a sample of the questions (faster)
//   node bench/knowledge.mjs --skip-10k            # without the 10,000-chunk latency run
//   CMRC_DIR=/path/to/cmrc2018-dev node bench/knowledge.mjs
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const QUERY_LIMIT = Number(arg('queries', Infinity));
const SKIP_10K = args.includes('--skip-10k');
const DATA = process.env.CMRC_DIR ?? [resolve(root, '../shared/data/cmrc2018-dev'), '/work/shared/data/cmrc2018-dev'].find((d) => existsSync(d));
if (!DATA || !existsSync(join(DATA, 'passages.jsonl'))) {
  console.error('CMRC 2018 data not found: set CMRC_DIR to the folder with passages.jsonl and queries.jsonl');
  process.exit(1);
}
const readJsonl = (f) => readFileSync(join(DATA, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const passages = readJsonl('passages.jsonl');
const allQueries = readJsonl('queries.jsonl');
const queries = Number.isFinite(QUERY_LIMIT) ? allQueries.slice(0, QUERY_LIMIT) : allQueries;

const PATH = `${join(root, 'node_modules/.bin')}:${process.env.PATH}`;
const env = { ...process.env, PATH, NO_COLOR: '1', WRANGLER_SEND_METRICS: 'false', CI: 'true' };

function freePort() {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function pool(items, concurrency, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

const state = mkdtempSync(join(tmpdir(), 'tiangong-bench-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
execFileSync('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state], { cwd: root, env, stdio: 'ignore' });
const server = spawn('wrangler', ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state, '--log-level', 'error'], {
  cwd: root,
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
  detached: true,
});
const stop = () => {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {}
  rmSync(state, { recursive: true, force: true });
};
process.on('exit', stop);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/health`)).ok) break;
  } catch {}
  if (i > 240) throw new Error('wrangler dev did not start');
  await sleep(500);
}

let token;
async function call(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const email = `bench-${Date.now()}@example.com`;
await call('POST', '/api/v1/auth/register', { email, password: 'benchmark password', nickname: 'bench' });
token = (await call('POST', '/api/v1/auth/login', { username: email, password: 'benchmark password' })).access_token;

async function ingest(name, settings, docs) {
  const kb = await call('POST', '/api/v1/knowledge-bases', { name, ...settings });
  const docIdOf = new Map();
  const started = performance.now();
  await pool(docs, 8, async (p) => {
    const doc = await call('POST', `/api/v1/knowledge-bases/${kb.id}/documents`, { title: p.title.trim() || p.id, content: p.text, metadata: { pid: p.id } });
    docIdOf.set(doc.id, p.id);
  });
  for (;;) {
    const detail = await call('GET', `/api/v1/knowledge-bases/${kb.id}`);
    const s = detail.documents_by_status;
    if (s.failed) throw new Error(`${s.failed} documents failed to ingest`);
    if (s.ready === docs.length) {
      const seconds = (performance.now() - started) / 1000;
      return { kb, docIdOf, seconds, chunks: detail.chunk_count };
    }
    await sleep(250);
  }
}

console.log(`CMRC 2018 dev: ${passages.length} passages, ${queries.length} of ${allQueries.length} questions`);
const main = await ingest('cmrc2018-dev', {}, passages);
console.log(
  `ingestion (sentence chunks of 500, overlap 50; local hashed embedding; through the queue): ${passages.length} passages, ` +
    `${main.chunks} chunks in ${main.seconds.toFixed(1)} s = ${(passages.length / main.seconds).toFixed(1)} passages/s, ` +
    `${(main.chunks / main.seconds).toFixed(1)} chunks/s`,
);

async function evaluate(kb, docIdOf, mode, qs, concurrency = 4) {
  let r1 = 0, r5 = 0, r10 = 0, mrr = 0;
  const client = [], server = [];
  await pool(qs, concurrency, async (q) => {
    const t = performance.now();
    const res = await call('POST', `/api/v1/knowledge-bases/${kb.id}/search`, { query: q.query, mode, top_k: 10 });
    client.push(performance.now() - t);
    server.push(res.took_ms);
    // Documents in the order of their best chunk: recall is about finding the gold passage.
    const ranking = [...new Set(res.results.map((r) => docIdOf.get(r.document_id)))];
    const rank = ranking.indexOf(q.gold) + 1;
    if (rank === 1) r1++;
    if (rank >= 1 && rank <= 5) r5++;
    if (rank >= 1 && rank <= 10) r10++;
    if (rank >= 1) mrr += 1 / rank;
  });
  const n = qs.length;
  return { r1: r1 / n, r5: r5 / n, r10: r10 / n, mrr: mrr / n, client, server };
}

const fmt = (x) => x.toFixed(3);
const ms = (x) => `${x.toFixed(1)} ms`;
// Recall over every question (4 in flight); latency over 300 questions one at a time, so a
// request's time is its own and not time spent queued behind others.
const LATENCY_SAMPLE = allQueries.slice(0, 300);
console.log(`\nmode       recall@1  recall@5  recall@10  MRR    | latency, ${LATENCY_SAMPLE.length} sequential searches: client p50 / p99   server p50 / p99`);
for (const mode of ['full-text', 'semantic', 'hybrid']) {
  const m = await evaluate(main.kb, main.docIdOf, mode, queries);
  const l = await evaluate(main.kb, main.docIdOf, mode, LATENCY_SAMPLE, 1);
  console.log(
    `${mode.padEnd(10)} ${fmt(m.r1).padEnd(9)} ${fmt(m.r5).padEnd(9)} ${fmt(m.r10).padEnd(10)} ${fmt(m.mrr)}  | ` +
      `${ms(quantile(l.client, 0.5))} / ${ms(quantile(l.client, 0.99))}`.padEnd(29) +
      `${ms(quantile(l.server, 0.5))} / ${ms(quantile(l.server, 0.99))}`,
  );
}

if (!SKIP_10K) {
  // Small fixed-size chunks of the same passages make a knowledge base of 10,000+ chunks.
  const big = await ingest('cmrc2018-dev-10k', { chunking: { strategy: 'fixed', chunk_size: 50, chunk_overlap: 6 } }, passages);
  console.log(
    `\n10k-chunk knowledge base: ${big.chunks} chunks (fixed 50/6), ingested in ${big.seconds.toFixed(1)} s = ` +
      `${(big.chunks / big.seconds).toFixed(1)} chunks/s`,
  );
  console.log(`mode       latency, ${LATENCY_SAMPLE.length} sequential searches: client p50 / p99   server p50 / p99`);
  for (const mode of ['full-text', 'semantic', 'hybrid']) {
    const m = await evaluate(big.kb, big.docIdOf, mode, LATENCY_SAMPLE, 1);
    console.log(
      `${mode.padEnd(10)} ` +
        `${ms(quantile(m.client, 0.5))} / ${ms(quantile(m.client, 0.99))}`.padEnd(29) +
        `${ms(quantile(m.server, 0.5))} / ${ms(quantile(m.server, 0.99))}`,
    );
  }
}
process.exit(0);
