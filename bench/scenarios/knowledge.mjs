import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { newUser } from '../client.mjs';

/**
 * Issue 7: knowledge bases on the CMRC 2018 dev set (../shared/data/cmrc2018-dev, or CMRC_DIR).
 * The 848 passages become documents of one knowledge base, ingested through the API and the local
 * Queue; then every question (KB_BENCH_QUERIES=N for a sample) is sent to search in each mode with
 * top_k 10. Printed: ingestion throughput (passages and chunks per second); recall@1/@5/@10 and
 * MRR per mode (whether the gold passage is among the documents of the results, in the order of
 * their best chunk); search latency p50/p99 per mode over 300 searches one at a time (client side
 * and the server's own `took_ms`); the same latency on a knowledge base of 10,000+ chunks (the same
 * passages in fixed 50-character chunks; KB_BENCH_SKIP_10K=1 skips it).
 */
export default async function knowledge(ctx) {
  const dir = process.env.CMRC_DIR ?? [resolve('../shared/data/cmrc2018-dev'), '/work/shared/data/cmrc2018-dev'].find((d) => existsSync(join(d, 'passages.jsonl')));
  if (!dir) {
    ctx.print('skipped: CMRC 2018 data not found (set CMRC_DIR to the folder with passages.jsonl and queries.jsonl)');
    return;
  }
  const readJsonl = (f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const passages = readJsonl('passages.jsonl');
  const allQueries = readJsonl('queries.jsonl');
  const limit = Number(process.env.KB_BENCH_QUERIES ?? Infinity);
  const queries = Number.isFinite(limit) ? allQueries.slice(0, limit) : allQueries;
  const latencySample = allQueries.slice(0, 300);
  const { token } = await newUser(ctx, 'kb');
  const call = (path, init = {}) => ctx.api(path, { token, ...init });

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  async function pool(items, concurrency, fn) {
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]);
    }));
  }

  async function ingest(name, settings) {
    const kb = await call('/api/v1/knowledge-bases', { json: { name, ...settings } });
    const passageOf = new Map();
    const started = performance.now();
    await pool(passages, 8, async (p) => {
      const doc = await call(`/api/v1/knowledge-bases/${kb.id}/documents`, { json: { title: p.title.trim() || p.id, content: p.text } });
      passageOf.set(doc.id, p.id);
    });
    for (;;) {
      const detail = await call(`/api/v1/knowledge-bases/${kb.id}`);
      const s = detail.documents_by_status;
      if (s.failed) throw new Error(`${s.failed} documents failed to ingest`);
      if (s.ready === passages.length) return { kb, passageOf, seconds: (performance.now() - started) / 1000, chunks: detail.chunk_count };
      await sleep(100);
    }
  }

  async function evaluate(kb, passageOf, mode, qs, concurrency) {
    let r1 = 0, r5 = 0, r10 = 0, mrr = 0;
    const client = [], server = [];
    await pool(qs, concurrency, async (q) => {
      const t = performance.now();
      const res = await call(`/api/v1/knowledge-bases/${kb.id}/search`, { json: { query: q.query, mode, top_k: 10 } });
      client.push(performance.now() - t);
      server.push(res.took_ms);
      const rank = [...new Set(res.results.map((r) => passageOf.get(r.document_id)))].indexOf(q.gold) + 1;
      if (rank === 1) r1++;
      if (rank >= 1 && rank <= 5) r5++;
      if (rank >= 1 && rank <= 10) r10++;
      if (rank >= 1) mrr += 1 / rank;
    });
    const n = qs.length;
    return { r1: r1 / n, r5: r5 / n, r10: r10 / n, mrr: mrr / n, client, server };
  }
  const f3 = (x) => x.toFixed(3);
  const lat = (xs) => `${quantile(xs, 0.5).toFixed(1)} / ${quantile(xs, 0.99).toFixed(1)} ms`;

  ctx.print(`CMRC 2018 dev: ${passages.length} passages, ${queries.length} of ${allQueries.length} questions`);
  const main = await ingest('cmrc2018-dev', {});
  ctx.print(
    `ingestion (defaults: sentence chunks of 500, overlap 50, local hashed embedding; API + queue): ${passages.length} passages, ` +
      `${main.chunks} chunks in ${main.seconds.toFixed(1)} s = ${(passages.length / main.seconds).toFixed(1)} passages/s, ${(main.chunks / main.seconds).toFixed(1)} chunks/s`,
  );
  ctx.print(`mode       recall@1  recall@5  recall@10  MRR    | latency p50 / p99, ${latencySample.length} searches one at a time: client, server`);
  for (const mode of ['full-text', 'semantic', 'hybrid']) {
    const m = await evaluate(main.kb, main.passageOf, mode, queries, 4);
    const l = await evaluate(main.kb, main.passageOf, mode, latencySample, 1);
    ctx.print(`${mode.padEnd(10)} ${f3(m.r1).padEnd(9)} ${f3(m.r5).padEnd(9)} ${f3(m.r10).padEnd(10)} ${f3(m.mrr)}  | ${lat(l.client)}, ${lat(l.server)}`);
  }

  if (process.env.KB_BENCH_SKIP_10K) return;
  const big = await ingest('cmrc2018-dev-10k', { chunking: { strategy: 'fixed', chunk_size: 50, chunk_overlap: 6 } });
  ctx.print(`10k-chunk knowledge base: ${big.chunks} chunks (fixed 50/6) ingested in ${big.seconds.toFixed(1)} s = ${(big.chunks / big.seconds).toFixed(1)} chunks/s`);
  for (const mode of ['full-text', 'semantic', 'hybrid']) {
    const l = await evaluate(big.kb, big.passageOf, mode, latencySample, 1);
    ctx.print(`${mode.padEnd(10)} latency p50 / p99 at ${big.chunks} chunks, ${latencySample.length} searches one at a time: client ${lat(l.client)}, server ${lat(l.server)}`);
  }
}
