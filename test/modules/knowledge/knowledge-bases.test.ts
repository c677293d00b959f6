import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../../src/index';
import { handleIngestBatch, ingestDocument, MAX_ATTEMPTS } from '../../../src/modules/knowledge/knowledge-bases/ingest';
import { parseSse } from '../../../src/lib/sse';
import { api, createUser, expectError } from '../../support/helpers';
import { chain, run } from '../../support/wf-helpers';

type User = Awaited<ReturnType<typeof createUser>>;
const KB = '/api/v1/knowledge-bases';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function createKb(user: User, body: Record<string, unknown> = {}) {
  const res = await api(KB, { token: user.token, json: { name: 'kb', ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function addDoc(user: User, kbId: string, body: Record<string, unknown>) {
  const res = await api(`${KB}/${kbId}/documents`, { token: user.token, json: body });
  expect(res.status, res.text).toBe(202);
  return res.body;
}

/** Polls until the queue consumer has finished with the document. */
async function settled(user: User, kbId: string, docId: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await api(`${KB}/${kbId}/documents?page_size=100`, { token: user.token });
    const doc = res.body.items.find((d: { id: string }) => d.id === docId);
    if (doc && (doc.status === 'ready' || doc.status === 'failed')) return doc;
    if (Date.now() > until) throw new Error(`document ${docId} still ${doc?.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function addReady(user: User, kbId: string, body: Record<string, unknown>) {
  const doc = await addDoc(user, kbId, body);
  const done = await settled(user, kbId, doc.id);
  expect(done.status, done.error).toBe('ready');
  return done;
}

async function upload(user: User, bytes: Uint8Array | string, name: string, type = '') {
  const form = new FormData();
  form.append('file', new File([bytes], name, { type }));
  return api('/api/v1/uploads', { token: user.token, method: 'POST', body: form });
}

/** A PDF with one line of (Latin-1) text in Helvetica on each page (one page for a string). */
function makePdf(text: string | string[]): Uint8Array {
  const pages = typeof text === 'string' ? [text] : text;
  // 1 catalog, 2 page tree, 3 font; page i is object 4 + 2i, its content 5 + 2i.
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${pages.map((_, i) => `${4 + 2 * i} 0 R`).join(' ')}] /Count ${pages.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  pages.forEach((line, i) => {
    const stream = `BT /F1 18 Tf 72 720 Td (${line.replace(/[()\\]/g, (c) => `\\${c}`)}) Tj ET`;
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${5 + 2 * i} 0 R /Resources << /Font << /F1 3 0 R >> >> >>`);
    objects.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  });
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) pdf += `${String(o).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(pdf);
}

async function count(sql: string, ...params: unknown[]) {
  return (await env.DB.prepare(sql).bind(...params).first<{ n: number }>())!.n;
}

/** Rows of one document in every store: chunks, full-text rows, local vectors. */
async function rowsOf(docId: string) {
  return {
    chunks: await count('SELECT count(*) AS n FROM kb_chunks WHERE document_id = ?', docId),
    fts: await count('SELECT count(*) AS n FROM kb_chunks_fts WHERE rowid IN (SELECT seq FROM kb_chunks WHERE document_id = ?)', docId),
    vectors: await count('SELECT count(*) AS n FROM rag_vectors WHERE document_id = ?', docId),
  };
}

async function expectNoOrphans() {
  expect(await count('SELECT count(*) AS n FROM kb_chunks_fts WHERE rowid NOT IN (SELECT seq FROM kb_chunks)')).toBe(0);
  expect(await count('SELECT count(*) AS n FROM rag_vectors WHERE id NOT IN (SELECT id FROM kb_chunks)')).toBe(0);
  expect(await count('SELECT count(*) AS n FROM kb_chunks WHERE document_id NOT IN (SELECT id FROM kb_documents)')).toBe(0);
}

const PALACE = '故宫位于北京市中心，是明清两代的皇家宫殿，旧称紫禁城。它是世界上现存规模最大的木质结构古建筑群之一。';
const WALL = '长城是中国古代的军事防御工程，始建于春秋战国时期。秦始皇统一六国后连接了各国的城墙。';
const PANDA = 'The giant panda lives in the mountains of Sichuan. Pandas eat bamboo almost exclusively.';

let alice: User;
let bob: User;
beforeAll(async () => {
  alice = await createUser('alice');
  bob = await createUser('bob');
});

describe('knowledge bases: CRUD', () => {
  it('creates with defaults and shows counts', async () => {
    const kb = await createKb(alice, { name: '产品手册', description: 'docs' });
    expect(kb.id).toMatch(UUID);
    expect(kb).toMatchObject({
      name: '产品手册',
      description: 'docs',
      embedding: { provider: 'local', model: 'local-hashed-char-ngram', dimensions: 1024, base_url: null, has_api_key: false },
      vector_store: 'local',
      chunking: { strategy: 'sentence', chunk_size: 500, chunk_overlap: 50 },
      retrieval: { mode: 'hybrid', top_k: 5, score_threshold: 0 },
      document_count: 0,
      chunk_count: 0,
      total_size: 0,
    });
    await addReady(alice, kb.id, { title: '故宫', content: PALACE });
    await addReady(alice, kb.id, { title: '长城', content: WALL });
    const detail = await api(`${KB}/${kb.id}`, { token: alice.token });
    expect(detail.body.document_count).toBe(2);
    expect(detail.body.chunk_count).toBe(2);
    expect(detail.body.total_size).toBe(new TextEncoder().encode(PALACE + WALL).byteLength);
    expect(detail.body.documents_by_status).toEqual({ pending: 0, processing: 0, ready: 2, failed: 0 });
  });

  it('validates the body and needs a token', async () => {
    expect(expectError(await api(KB, { token: alice.token, json: { name: '' } }), 422).message).toContain('body.name');
    expect(
      expectError(await api(KB, { token: alice.token, json: { name: 'x', chunking: { chunk_size: 100, chunk_overlap: 80 } } }), 422).message,
    ).toContain('chunk_overlap');
    expect(expectError(await api(KB, { token: alice.token, json: { name: 'x', retrieval: { mode: 'magic' } } }), 422).message).toContain(
      'body.retrieval.mode',
    );
    expectError(await api(KB, { token: alice.token, json: { name: 'x', embedding: { provider: 'workers-ai' } } }), 422);
    expectError(await api(KB, { json: { name: 'x' } }), 401);
    expectError(await api(KB), 401);
  });

  it('embeds with an OpenAI-compatible endpoint; the API key is stored encrypted and never returned', async () => {
    const kb = await createKb(alice, {
      embedding: { provider: 'openai', base_url: `${env.FAKE_BASE_URL}/embeddings-api/ok`, model: 'text-embedding-x', dimensions: 8, api_key: 'sk-secret-123' },
    });
    expect(kb.embedding).toMatchObject({ provider: 'openai', model: 'text-embedding-x', dimensions: 8, has_api_key: true });
    expect(JSON.stringify(kb)).not.toContain('sk-secret-123');
    const stored = await env.DB.prepare('SELECT embedding_api_key FROM knowledge_bases WHERE id = ?').bind(kb.id).first<{ embedding_api_key: string }>();
    expect(stored!.embedding_api_key).not.toContain('sk-secret-123');
    const doc = await addReady(alice, kb.id, { title: 'aaa', content: 'aaaa aaaa' });
    await addReady(alice, kb.id, { title: 'ccc', content: 'cccc cccc' });
    const res = await api(`${KB}/${kb.id}/search`, { token: alice.token, json: { query: 'a', mode: 'semantic' } });
    expect(res.body.results[0].document_id).toBe(doc.id);
    const seen = (await (await fetch(`${env.FAKE_BASE_URL}/embeddings-api/requests`)).json()) as Array<{ authorization: string; body: { model: string } }>;
    expect(seen.at(-1)).toMatchObject({ authorization: 'Bearer sk-secret-123', body: { model: 'text-embedding-x' } });
  });

  it('refuses an OpenAI-compatible embedding endpoint on a private address', async () => {
    const res = await api(KB, {
      token: alice.token,
      json: { name: 'x', embedding: { provider: 'openai', base_url: 'http://169.254.169.254/v1', model: 'e', dimensions: 8 } },
    });
    expectError(res, 400, 'SSRF_BLOCKED');
  });

  it('lists only your own, paginated and searchable', async () => {
    const carol = await createUser('carol');
    for (const name of ['alpha', 'beta', 'gamma']) await createKb(carol, { name });
    await createKb(bob, { name: 'bobs' });
    const page = await api(`${KB}?page=1&page_size=2`, { token: carol.token });
    expect(page.body).toMatchObject({ total: 3, page: 1, page_size: 2 });
    expect(page.body.items).toHaveLength(2);
    const found = await api(`${KB}?search=amm`, { token: carol.token });
    expect(found.body.items.map((k: { name: string }) => k.name)).toEqual(['gamma']);
  });

  it("another user's knowledge base is not found, for every endpoint", async () => {
    const kb = await createKb(alice);
    const doc = await addReady(alice, kb.id, { title: 't', content: PALACE });
    const paths: Array<[string, string, unknown?]> = [
      ['GET', `${KB}/${kb.id}`],
      ['PUT', `${KB}/${kb.id}`, { name: 'mine now' }],
      ['DELETE', `${KB}/${kb.id}`],
      ['GET', `${KB}/${kb.id}/documents`],
      ['POST', `${KB}/${kb.id}/documents`, { title: 't', content: 'c' }],
      ['DELETE', `${KB}/${kb.id}/documents/${doc.id}`],
      ['POST', `${KB}/${kb.id}/search`, { query: '故宫' }],
      ['POST', `${KB}/${kb.id}/rag`, { query: '故宫' }],
    ];
    for (const [method, path, json] of paths) expectError(await api(path, { method, json, token: bob.token }), 404, 'NOT_FOUND');
    expect((await api(`${KB}/${kb.id}`, { token: alice.token })).body.document_count).toBe(1);
    expectError(await api(`${KB}/${crypto.randomUUID()}`, { token: alice.token }), 404);
  });

  it('updating retrieval settings keeps the index; new chunking re-indexes every document', async () => {
    const kb = await createKb(alice, { chunking: { strategy: 'sentence', chunk_size: 500, chunk_overlap: 0 } });
    const doc = await addReady(alice, kb.id, { title: '故宫', content: PALACE });
    expect(doc.chunk_count).toBe(1);
    const r1 = await api(`${KB}/${kb.id}`, { method: 'PUT', token: alice.token, json: { retrieval: { top_k: 3 }, name: 'renamed' } });
    expect(r1.body).toMatchObject({ name: 'renamed', retrieval: { top_k: 3, mode: 'hybrid' }, chunk_count: 1 });
    const r2 = await api(`${KB}/${kb.id}`, { method: 'PUT', token: alice.token, json: { chunking: { strategy: 'fixed', chunk_size: 20, chunk_overlap: 0 } } });
    expect(r2.status, r2.text).toBe(200);
    expect(r2.body.chunking).toEqual({ strategy: 'fixed', chunk_size: 20, chunk_overlap: 0 });
    const again = await settled(alice, kb.id, doc.id);
    expect(again.status).toBe('ready');
    expect(again.chunk_count).toBe(Math.ceil([...PALACE].length / 20));
    expect(await rowsOf(doc.id)).toEqual({ chunks: again.chunk_count, fts: again.chunk_count, vectors: again.chunk_count });
    await expectNoOrphans();
  });

  it('switching the embedding model re-indexes with the new dimensions', async () => {
    const kb = await createKb(alice, { embedding: { provider: 'local', dimensions: 256 } });
    const doc = await addReady(alice, kb.id, { title: '故宫', content: PALACE });
    const before = await env.DB.prepare('SELECT embedding FROM rag_vectors WHERE document_id = ?').bind(doc.id).first<{ embedding: string }>();
    expect(atob(before!.embedding).length).toBe(256);
    const res = await api(`${KB}/${kb.id}`, { method: 'PUT', token: alice.token, json: { embedding: { provider: 'local', dimensions: 512 } } });
    expect(res.body.embedding.dimensions).toBe(512);
    await settled(alice, kb.id, doc.id);
    const after = await env.DB.prepare('SELECT embedding FROM rag_vectors WHERE document_id = ?').bind(doc.id).first<{ embedding: string }>();
    expect(atob(after!.embedding).length).toBe(512);
    const search = await api(`${KB}/${kb.id}/search`, { token: alice.token, json: { query: '紫禁城', mode: 'semantic' } });
    expect(search.body.results[0].document_id).toBe(doc.id);
  });
});

describe('documents and ingestion', () => {
  it('answers at once with a pending document, which the queue makes ready', async () => {
    const kb = await createKb(alice);
    const doc = await addDoc(alice, kb.id, { title: '故宫', content: PALACE, metadata: { lang: 'zh', year: 2020 } });
    expect(doc).toMatchObject({ status: 'pending', progress: 0, chunk_count: 0, source: 'text', content_type: 'text/plain', metadata: { lang: 'zh', year: 2020 } });
    const done = await settled(alice, kb.id, doc.id);
    expect(done).toMatchObject({ status: 'ready', progress: 100, chunk_count: 1, error: null });
  });

  it('validates documents', async () => {
    const kb = await createKb(alice);
    const path = `${KB}/${kb.id}/documents`;
    expect(expectError(await api(path, { token: alice.token, json: { title: 't' } }), 422).message).toContain('content');
    expectError(await api(path, { token: alice.token, json: { title: 't', content: 'x', upload_id: crypto.randomUUID() } }), 422);
    expect(expectError(await api(path, { token: alice.token, json: { content: 'x' } }), 422).message).toContain('body.title');
    expectError(await api(path, { token: alice.token, json: { title: 't', content: 'x', content_type: 'pdf' } }), 422);
    expectError(await api(path, { token: alice.token, json: { title: 't', content: 'x', metadata: { 'bad key': 1 } } }), 422);
  });

  it('lists documents with status and title filters', async () => {
    const kb = await createKb(alice);
    await addReady(alice, kb.id, { title: 'First guide', content: PANDA });
    await addReady(alice, kb.id, { title: 'Second', content: WALL });
    const ready = await api(`${KB}/${kb.id}/documents?status=ready`, { token: alice.token });
    expect(ready.body.total).toBe(2);
    const pending = await api(`${KB}/${kb.id}/documents?status=pending`, { token: alice.token });
    expect(pending.body.total).toBe(0);
    const byTitle = await api(`${KB}/${kb.id}/documents?search=guide`, { token: alice.token });
    expect(byTitle.body.items.map((d: { title: string }) => d.title)).toEqual(['First guide']);
    expectError(await api(`${KB}/${kb.id}/documents?status=weird`, { token: alice.token }), 422);
  });

  it('chunks Markdown by headings and HTML as visible text', async () => {
    const kb = await createKb(alice, { chunking: { strategy: 'markdown', chunk_size: 300, chunk_overlap: 0 } });
    const md = await addReady(alice, kb.id, { title: 'Guide', content_type: 'markdown', content: '# 安装\n运行安装程序。\n\n# 使用\n打开应用即可。' });
    expect(md.chunk_count).toBe(2);
    const { results } = await env.DB.prepare('SELECT content, heading FROM kb_chunks WHERE document_id = ? ORDER BY position').bind(md.id).all();
    expect(results).toEqual([
      { content: '安装\n运行安装程序。', heading: '安装' },
      { content: '使用\n打开应用即可。', heading: '使用' },
    ]);
    const html = await addReady(alice, kb.id, { title: 'Page', content_type: 'html', content: '<p>熊猫<b>吃</b>竹子</p><script>alert(1)</script>' });
    const chunk = await env.DB.prepare('SELECT content FROM kb_chunks WHERE document_id = ?').bind(html.id).first<{ content: string }>();
    expect(chunk!.content).toBe('熊猫吃竹子');
  });

  it('a redelivered message does not duplicate chunks, even after an interrupted attempt', async () => {
    const kb = await createKb(alice, { chunking: { strategy: 'fixed', chunk_size: 10, chunk_overlap: 2 } });
    const doc = await addReady(alice, kb.id, { title: '故宫', content: PALACE });
    const expected = doc.chunk_count;
    expect(expected).toBeGreaterThan(3);
    const generation = 1;
    // Redelivery of a finished message: nothing happens.
    expect(await ingestDocument(env, doc.id, generation)).toBe('skipped');
    // An attempt that died half-way: the document is still "processing" and some rows exist.
    await env.DB.prepare("UPDATE kb_documents SET status = 'processing' WHERE id = ?").bind(doc.id).run();
    await env.DB.prepare('DELETE FROM kb_chunks WHERE document_id = ? AND position >= 2').bind(doc.id).run();
    const message = { id: 'm1', timestamp: new Date(), attempts: 2, body: { type: 'ingest', document_id: doc.id, generation } };
    // The same message delivered twice in one batch, then once more.
    const batch = createMessageBatch('tiangong-ingest', [message, { ...message, id: 'm2' }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch<unknown>, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(['m1', 'm2']);
    await handleIngestBatch(createMessageBatch('tiangong-ingest', [{ ...message, id: 'm3' }]), env);
    expect(await rowsOf(doc.id)).toEqual({ chunks: expected, fts: expected, vectors: expected });
    const positions = await env.DB.prepare('SELECT position FROM kb_chunks WHERE document_id = ? ORDER BY position').bind(doc.id).all<{ position: number }>();
    expect(positions.results.map((r) => r.position)).toEqual([...Array(expected).keys()]);
    const after = (await api(`${KB}/${kb.id}/documents`, { token: alice.token })).body.items[0];
    expect(after).toMatchObject({ status: 'ready', chunk_count: expected, progress: 100 });
    await expectNoOrphans();
  });

  it('a stale message (older generation) and a message for a deleted document are acknowledged and ignored', async () => {
    const kb = await createKb(alice);
    const doc = await addReady(alice, kb.id, { title: 'x', content: PANDA });
    await env.DB.prepare("UPDATE kb_documents SET generation = 2, status = 'pending' WHERE id = ?").bind(doc.id).run();
    expect(await ingestDocument(env, doc.id, 1)).toBe('skipped');
    expect(await ingestDocument(env, crypto.randomUUID(), 1)).toBe('skipped');
    const batch = createMessageBatch('tiangong-ingest', [{ id: 'bad', timestamp: new Date(), attempts: 1, body: { nonsense: true } }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch<unknown>, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(['bad']);
  });

  it('retries a transient failure and marks the document failed on the last attempt; the dead-letter consumer marks failed', async () => {
    const kb = await createKb(alice);
    const doc = await addReady(alice, kb.id, { title: 'x', content: PANDA });
    // A knowledge base whose embedding endpoint is unreachable fails transiently.
    await env.DB.prepare(
      "UPDATE knowledge_bases SET embedding_provider = 'openai', embedding_model = 'm', embedding_base_url = ?, embedding_dimensions = 8 WHERE id = ?",
    )
      .bind(`${env.FAKE_BASE_URL}/embeddings-api/down`, kb.id)
      .run();
    await env.DB.prepare("UPDATE kb_documents SET status = 'pending', generation = 5 WHERE id = ?").bind(doc.id).run();
    const body = { type: 'ingest', document_id: doc.id, generation: 5 };
    const first = createMessageBatch('tiangong-ingest', [{ id: 'a1', timestamp: new Date(), attempts: 1, body }]);
    const ctx1 = createExecutionContext();
    await worker.queue!(first as MessageBatch<unknown>, env, ctx1);
    const r1 = await getQueueResult(first, ctx1);
    expect(r1.retryMessages.map((m) => m.msgId)).toEqual(['a1']);
    let row = await env.DB.prepare('SELECT status, error FROM kb_documents WHERE id = ?').bind(doc.id).first<{ status: string; error: string }>();
    expect(row!.status).toBe('pending');
    expect(row!.error).toMatch(/Attempt 1 failed \(will retry\)/);
    const last = createMessageBatch('tiangong-ingest', [{ id: 'a4', timestamp: new Date(), attempts: MAX_ATTEMPTS, body }]);
    const ctx2 = createExecutionContext();
    await worker.queue!(last as MessageBatch<unknown>, env, ctx2);
    expect((await getQueueResult(last, ctx2)).explicitAcks).toEqual(['a4']);
    row = await env.DB.prepare('SELECT status, error FROM kb_documents WHERE id = ?').bind(doc.id).first();
    expect(row!.status).toBe('failed');
    expect(row!.error).toMatch(/Embeddings endpoint answered 503/);
    expect(await rowsOf(doc.id)).toEqual({ chunks: 0, fts: 0, vectors: 0 });

    await env.DB.prepare("UPDATE kb_documents SET status = 'processing', error = NULL WHERE id = ?").bind(doc.id).run();
    const dead = createMessageBatch('tiangong-ingest-dlq', [{ id: 'd1', timestamp: new Date(), attempts: 1, body }]);
    const ctx3 = createExecutionContext();
    await worker.queue!(dead as MessageBatch<unknown>, env, ctx3);
    expect((await getQueueResult(dead, ctx3)).explicitAcks).toEqual(['d1']);
    row = await env.DB.prepare('SELECT status, error FROM kb_documents WHERE id = ?').bind(doc.id).first();
    expect(row).toEqual({ status: 'failed', error: 'Ingestion gave up after repeated delivery failures' });
  });

  it('a message for an unknown queue is retried, not lost', async () => {
    const batch = createMessageBatch('no-such-queue', [{ id: 'q1', timestamp: new Date(), attempts: 1, body: {} }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch as MessageBatch<unknown>, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
  });
});

describe('deletion leaves no orphans', () => {
  it('deleting a document removes its chunks, vectors and full-text rows only', async () => {
    const kb = await createKb(alice, { chunking: { strategy: 'fixed', chunk_size: 20, chunk_overlap: 0 } });
    const keep = await addReady(alice, kb.id, { title: '长城', content: WALL });
    const gone = await addReady(alice, kb.id, { title: '故宫', content: PALACE });
    expect((await rowsOf(gone.id)).chunks).toBeGreaterThan(1);
    const res = await api(`${KB}/${kb.id}/documents/${gone.id}`, { method: 'DELETE', token: alice.token });
    expect(res.status).toBe(204);
    expect(await rowsOf(gone.id)).toEqual({ chunks: 0, fts: 0, vectors: 0 });
    const kept = await rowsOf(keep.id);
    expect(kept.chunks).toBe(keep.chunk_count);
    expect(kept).toEqual({ chunks: kept.chunks, fts: kept.chunks, vectors: kept.chunks });
    await expectNoOrphans();
    const search = await api(`${KB}/${kb.id}/search`, { token: alice.token, json: { query: '故宫 紫禁城', mode: 'hybrid' } });
    expect(search.body.results.every((r: { document_id: string }) => r.document_id !== gone.id)).toBe(true);
    expectError(await api(`${KB}/${kb.id}/documents/${gone.id}`, { method: 'DELETE', token: alice.token }), 404);
  });

  it('deleting a knowledge base removes everything in it', async () => {
    const other = await createKb(alice);
    const otherDoc = await addReady(alice, other.id, { title: 'x', content: WALL });
    const kb = await createKb(alice);
    const a = await addReady(alice, kb.id, { title: 'a', content: PALACE });
    const b = await addReady(alice, kb.id, { title: 'b', content: PANDA });
    const res = await api(`${KB}/${kb.id}`, { method: 'DELETE', token: alice.token });
    expect(res.status).toBe(204);
    expectError(await api(`${KB}/${kb.id}`, { token: alice.token }), 404);
    for (const id of [a.id, b.id]) expect(await rowsOf(id)).toEqual({ chunks: 0, fts: 0, vectors: 0 });
    expect(await count('SELECT count(*) AS n FROM kb_documents WHERE kb_id = ?', kb.id)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM rag_vectors WHERE namespace = ?', kb.id)).toBe(0);
    expect((await rowsOf(otherDoc.id)).chunks).toBe(1);
    await expectNoOrphans();
  });
});

describe('search', () => {
  let kb: { id: string };
  let palace: { id: string };
  let wall: { id: string };
  let panda: { id: string };
  beforeAll(async () => {
    kb = await createKb(alice);
    palace = await addReady(alice, kb.id, { title: '故宫', content: PALACE, metadata: { topic: 'building', lang: 'zh' } });
    wall = await addReady(alice, kb.id, { title: '长城', content: WALL, metadata: { topic: 'defence', lang: 'zh' } });
    panda = await addReady(alice, kb.id, { title: 'Pandas', content: PANDA, metadata: { topic: 'animal', lang: 'en' } });
  });
  const search = (body: Record<string, unknown>) => api(`${KB}/${kb.id}/search`, { token: alice.token, json: body });

  it('full-text finds two-character Chinese words (which FTS5 trigram would miss)', async () => {
    const res = await search({ query: '宫殿', mode: 'full-text' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.mode).toBe('full-text');
    expect(res.body.results).toHaveLength(1);
    expect(res.body.results[0]).toMatchObject({ document_id: palace.id, document_title: '故宫', position: 0 });
    expect(res.body.results[0].chunk_id).toMatch(UUID);
    expect(res.body.results[0].content).toContain('皇家宫殿');
    expect(Object.keys(res.body.results[0]).sort()).toEqual(['chunk_id', 'content', 'document_id', 'document_title', 'heading', 'position', 'score']);
  });

  it('full-text ranks by BM25 and matches English words case-insensitively', async () => {
    const res = await search({ query: '秦始皇修建的城墙', mode: 'full-text' });
    expect(res.body.results[0].document_id).toBe(wall.id);
    const en = await search({ query: 'BAMBOO', mode: 'full-text' });
    expect(en.body.results.map((r: { document_id: string }) => r.document_id)).toEqual([panda.id]);
    const none = await search({ query: '量子计算机', mode: 'full-text' });
    expect(none.body.results).toEqual([]);
    const punct = await search({ query: '？？？', mode: 'full-text' });
    expect(punct.body.results).toEqual([]);
  });

  it('semantic and hybrid rank the right document first', async () => {
    for (const mode of ['semantic', 'hybrid']) {
      const res = await search({ query: '紫禁城是哪两个朝代的皇宫？', mode });
      expect(res.body.mode).toBe(mode);
      expect(res.body.results[0].document_id, mode).toBe(palace.id);
      const scores = res.body.results.map((r: { score: number }) => r.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    }
    const hybrid = await search({ query: '故宫', mode: 'hybrid' });
    expect(hybrid.body.results[0].score).toBeLessThanOrEqual(1);
    expect(hybrid.body.results[0].score).toBeGreaterThan(0);
  });

  it('uses the knowledge base defaults, top_k and score_threshold', async () => {
    const def = await search({ query: '故宫 长城 panda' });
    expect(def.body.mode).toBe('hybrid');
    const one = await search({ query: '故宫 长城 panda', mode: 'full-text', top_k: 1 });
    expect(one.body.results).toHaveLength(1);
    const all = await search({ query: '故宫 长城 熊猫 bamboo', mode: 'semantic', top_k: 10 });
    expect(all.body.results.length).toBeGreaterThan(1);
    const high = await search({ query: '故宫 长城 熊猫 bamboo', mode: 'semantic', top_k: 10, score_threshold: all.body.results[0].score });
    expect(high.body.results).toHaveLength(1);
  });

  it('filters by document ids and metadata', async () => {
    const byId = await search({ query: '中国 故宫 长城', mode: 'full-text', filter: { document_ids: [wall.id] } });
    expect(byId.body.results.map((r: { document_id: string }) => r.document_id)).toEqual([wall.id]);
    const byMeta = await search({ query: '中国 故宫 长城', mode: 'hybrid', filter: { metadata: { topic: 'building' } } });
    expect(byMeta.body.results.map((r: { document_id: string }) => r.document_id)).toEqual([palace.id]);
    const semMeta = await search({ query: '中国 故宫 长城', mode: 'semantic', filter: { metadata: { lang: 'zh' } } });
    expect(new Set(semMeta.body.results.map((r: { document_id: string }) => r.document_id))).toEqual(new Set([palace.id, wall.id]));
    const none = await search({ query: '故宫', filter: { metadata: { topic: 'nothing' } } });
    expect(none.body.results).toEqual([]);
    const foreign = await search({ query: '故宫', filter: { document_ids: [crypto.randomUUID()] } });
    expect(foreign.body.results).toEqual([]);
  });

  it('a base changed or deleted since the last search is searched as it is: new defaults at once, then 404', async () => {
    const own = await createKb(alice);
    await addReady(alice, own.id, { title: '故宫', content: PALACE });
    const searchOwn = () => api(`${KB}/${own.id}/search`, { token: alice.token, json: { query: '故宫' } });
    expect((await searchOwn()).body.mode).toBe('hybrid');
    expect((await searchOwn()).body.mode).toBe('hybrid');
    const put = await api(`${KB}/${own.id}`, { method: 'PUT', token: alice.token, json: { retrieval: { mode: 'full-text', top_k: 1 } } });
    expect(put.status, put.text).toBe(200);
    const after = await searchOwn();
    expect(after.body.mode).toBe('full-text');
    expect(after.body.results).toHaveLength(1);
    // Changed behind the API's back (another isolate, D1 directly): still seen on the next search.
    await env.DB.prepare("UPDATE knowledge_bases SET retrieval_mode = 'semantic' WHERE id = ?").bind(own.id).run();
    expect((await searchOwn()).body.mode).toBe('semantic');
    expect((await api(`${KB}/${own.id}`, { method: 'DELETE', token: alice.token })).status).toBe(204);
    expectError(await searchOwn(), 404, 'NOT_FOUND');
  });

  it('validates the search body', async () => {
    expect(expectError(await search({ query: '' }), 422).message).toContain('body.query');
    expect(expectError(await search({ query: 'x', mode: 'vector' }), 422).message).toContain('body.mode');
    expect(expectError(await search({ query: 'x', top_k: 0 }), 422).message).toContain('body.top_k');
  });

  it('does not search documents that are not ready', async () => {
    const doc = await addDoc(alice, kb.id, { title: '熊猫基地', content: '成都大熊猫繁育研究基地' });
    await settled(alice, kb.id, doc.id);
    await env.DB.prepare("UPDATE kb_documents SET status = 'processing' WHERE id = ?").bind(doc.id).run();
    const res = await search({ query: '繁育研究基地', mode: 'full-text' });
    expect(res.body.results).toEqual([]);
    await env.DB.prepare("UPDATE kb_documents SET status = 'ready' WHERE id = ?").bind(doc.id).run();
    expect((await search({ query: '繁育研究基地', mode: 'full-text' })).body.results[0].document_id).toBe(doc.id);
  });
});

describe('rag', () => {
  let kb: { id: string };
  let palace: { id: string };
  beforeAll(async () => {
    kb = await createKb(alice, { name: '历史' });
    palace = await addReady(alice, kb.id, { title: '故宫', content: PALACE });
    await addReady(alice, kb.id, { title: '长城', content: WALL });
  });
  const rag = (body: Record<string, unknown>) => api(`${KB}/${kb.id}/rag`, { token: alice.token, json: body });

  it('answers through the model with numbered citations and token usage', async () => {
    const res = await rag({ query: '故宫旧称什么？', mode: 'full-text', top_k: 2 });
    expect(res.status, res.text).toBe(200);
    // The mock model echoes the question: the question is the user message, the passages the system prompt.
    expect(res.body.answer).toBe('echo: 故宫旧称什么？');
    expect(res.body.citations[0]).toMatchObject({ index: 1, document_id: palace.id, title: '故宫' });
    expect(res.body.citations[0].snippet).toContain('紫禁城');
    expect(res.body.citations.map((c: { index: number }) => c.index)).toEqual(res.body.citations.map((_: unknown, i: number) => i + 1));
    // The passages went into the prompt: far more prompt tokens than the question alone.
    expect(res.body.token_usage.prompt_tokens).toBeGreaterThan(40);
    expect(res.body.token_usage.total_tokens).toBe(res.body.token_usage.prompt_tokens + res.body.token_usage.completion_tokens);
  });

  it('says so, without calling the model, when nothing relevant is found', async () => {
    const zh = await rag({ query: '量子计算机的原理', mode: 'full-text' });
    expect(zh.body).toEqual({
      answer: '知识库中没有找到与这个问题相关的内容，因此无法根据知识库回答。',
      citations: [],
      token_usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
    const en = await rag({ query: 'quantum computing', mode: 'hybrid' });
    expect(en.body.answer).toMatch(/could not find anything relevant/);
    expect(en.body.citations).toEqual([]);
  });

  it('streams citations, tokens and done as SSE', async () => {
    const res = await rag({ query: '长城始建于什么时期', mode: 'full-text', stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = parseSse(res.text);
    expect(events[0].event).toBe('citations');
    expect(JSON.parse(events[0].data).citations[0].title).toBe('长城');
    const tokens = events.filter((e) => e.event === 'token').map((e) => JSON.parse(e.data).content);
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.join('')).toBe('echo: 长城始建于什么时期');
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(JSON.parse(done.data)).toMatchObject({ answer: 'echo: 长城始建于什么时期', token_usage: { completion_tokens: expect.any(Number) } });
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
  });

  it('a model failure is 502 LLM_ERROR, or an SSE error event when streaming', async () => {
    // `/error` makes the mock model fail; the knowledge base must have something to cite first.
    await addReady(alice, kb.id, { title: 'errors', content: 'error handling /error page' });
    expectError(await rag({ query: '/error', mode: 'full-text' }), 502, 'LLM_ERROR');
    const res = await rag({ query: '/error', mode: 'full-text', stream: true });
    const events = parseSse(res.text);
    expect(events.map((e) => e.event)).toEqual(['citations', 'error']);
    expect(JSON.parse(events[1].data).error).toBe('LLM_ERROR');
  });

  it('validates model_config', async () => {
    expectError(await rag({ query: 'x', model_config: { provider: 'mock' } }), 422);
    expectError(await rag({ query: '故宫', mode: 'full-text', model_config: { provider: 'nope', model_name: 'x' } }), 422);
  });
});

describe('uploads', () => {
  it('stores a file in R2 with its sha256 and a sanitised name', async () => {
    const text = '熊猫的故乡在四川。\n\n它们喜欢吃竹子。';
    const res = await upload(alice, text, '../../etc/pass|wd.txt', 'text/plain');
    expect(res.status, res.text).toBe(201);
    const sha = [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    expect(res.body).toMatchObject({ filename: 'pass_wd.txt', content_type: 'text/plain', size: new TextEncoder().encode(text).length, sha256: sha });
    expect(res.body.id).toMatch(UUID);
    const row = await env.DB.prepare('SELECT storage_key FROM uploads WHERE id = ?').bind(res.body.id).first<{ storage_key: string }>();
    expect(row!.storage_key).toBe(`uploads/${alice.id}/${res.body.id}`);
    expect(await (await env.FILES.get(row!.storage_key))!.text()).toBe(text);
  });

  it('decides the type from the content: a text file named .pdf is text, a PNG is refused', async () => {
    const fake = await upload(alice, 'plain words', 'report.pdf', 'application/pdf');
    expect(fake.body.content_type).toBe('text/plain');
    expect(fake.body.declared_type).toBe('application/pdf');
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expectError(await upload(alice, png, 'notes.txt', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const csv = await upload(alice, 'a,b\n1,2', 'data.csv');
    expect(csv.body.content_type).toBe('text/csv');
  });

  it('rejects a missing file and an oversized one', async () => {
    const form = new FormData();
    form.append('other', 'x');
    expect(expectError(await api('/api/v1/uploads', { token: alice.token, method: 'POST', body: form }), 422).message).toContain('file');
    const big = new Uint8Array(20 * 1024 * 1024 + 100 * 1024).fill(0x61);
    expectError(await upload(alice, big, 'big.txt'), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await upload({ ...alice, token: '' }, 'x', 'x.txt'), 401);
  });

  it("previews your own upload; another user's is 404", async () => {
    const res = await upload(alice, 'name,city\nLi,北京\nWang,上海', 'people.csv', 'text/csv');
    const preview = await api(`/api/v1/uploads/${res.body.id}/preview?max_chars=100`, { token: alice.token });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body).toMatchObject({ id: res.body.id, filename: 'people.csv', excerpt: 'name: Li; city: 北京\n\nname: Wang; city: 上海', truncated: false, pages: null });
    const short = await api(`/api/v1/uploads/${res.body.id}/preview?max_chars=100`, { token: alice.token });
    expect(short.body.char_count).toBe([...short.body.excerpt].length);
    expectError(await api(`/api/v1/uploads/${res.body.id}/preview`, { token: bob.token }), 404, 'NOT_FOUND');
    expectError(await api(`/api/v1/uploads/${crypto.randomUUID()}/preview`, { token: alice.token }), 404);
    // Nor can another user ingest it.
    const bobKb = await createKb(bob);
    expectError(await api(`${KB}/${bobKb.id}/documents`, { token: bob.token, json: { upload_id: res.body.id } }), 404);
  });

  it('extracts the text of a PDF and ingests it into a knowledge base', async () => {
    const res = await upload(alice, makePdf('Tiangong supports retrieval augmented generation'), 'brochure.bin');
    expect(res.status, res.text).toBe(201);
    expect(res.body.content_type).toBe('application/pdf');
    const preview = await api(`/api/v1/uploads/${res.body.id}/preview`, { token: alice.token });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body.excerpt).toContain('Tiangong supports retrieval augmented generation');
    expect(preview.body.pages).toBe(1);
    const kb = await createKb(alice);
    const doc = await addReady(alice, kb.id, { upload_id: res.body.id, metadata: { kind: 'pdf' } });
    expect(doc).toMatchObject({ title: 'brochure.bin', source: 'upload', upload_id: res.body.id, content_type: 'application/pdf' });
    const search = await api(`${KB}/${kb.id}/search`, { token: alice.token, json: { query: 'retrieval', mode: 'full-text' } });
    expect(search.body.results[0].document_id).toBe(doc.id);
  });

  it('a broken PDF fails ingestion with the reason', async () => {
    const res = await upload(alice, '%PDF-1.4\nthis is not really a pdf', 'broken.pdf');
    expect(res.body.content_type).toBe('application/pdf');
    const kb = await createKb(alice);
    const doc = await addDoc(alice, kb.id, { upload_id: res.body.id, title: 'Broken' });
    const done = await settled(alice, kb.id, doc.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/PDF/);
    expect(await rowsOf(doc.id)).toEqual({ chunks: 0, fts: 0, vectors: 0 });
    expectError(await api(`/api/v1/uploads/${res.body.id}/preview`, { token: alice.token }), 422, 'EXTRACTION_FAILED');
  });
});

describe('knowledge in workflows and tools', () => {
  let kb: { id: string };
  let zoo: { id: string };
  let bobKb: { id: string };
  let palace: { id: string };
  let panda: { id: string };
  let bobDoc: { id: string };
  // Not the first user of the file, hence not an admin (who may read every knowledge base).
  let carol: User;
  beforeAll(async () => {
    carol = await createUser('carol');
    expect(carol.role).toBe('user');
    kb = await createKb(carol, { name: '历史' });
    palace = await addReady(carol, kb.id, { title: '故宫', content: PALACE });
    await addReady(carol, kb.id, { title: '长城', content: WALL });
    zoo = await createKb(carol, { name: 'zoo' });
    panda = await addReady(carol, zoo.id, { title: 'Pandas', content: PANDA });
    bobKb = await createKb(bob, { name: 'bob' });
    bobDoc = await addReady(bob, bobKb.id, { title: '秘密', content: '故宫的秘密只有鲍勃知道。' });
  });
  const nodeRun = (node: Record<string, unknown>, inputs: Record<string, unknown> = {}) =>
    api('/api/v1/nodes/run', { token: carol.token, json: { node: { id: 'x', ...node }, inputs } });

  it('the knowledge_search tool in a workflow tool node: chunks with document, score and citation, as the search endpoint finds them', async () => {
    const graph = chain(
      [{ id: 'ks', type: 'tool', config: { tool: 'knowledge_search', arguments: { kb_id: kb.id, query: '{{inputs.q}}', top_k: 2, mode: 'full-text' } } }],
      { found: '{{ks.result}}' },
    );
    const { body } = await run(carol.token, graph, { q: '故宫旧称什么' });
    expect(body.status, JSON.stringify(body.error)).toBe('succeeded');
    const found = body.outputs.found;
    expect(found).toMatchObject({ kb_id: kb.id, kb_name: '历史', query: '故宫旧称什么', mode: 'full-text' });
    expect(found.chunks[0]).toMatchObject({ document_id: palace.id, document_name: '故宫', position: 0, citation: '[1] 故宫' });
    expect(found.chunks[0].content).toContain('紫禁城');
    expect(Object.keys(found.chunks[0]).sort()).toEqual(['chunk_id', 'citation', 'content', 'document_id', 'document_name', 'position', 'score']);
    const direct = await api(`${KB}/${kb.id}/search`, { token: carol.token, json: { query: '故宫旧称什么', top_k: 2, mode: 'full-text' } });
    expect(found.chunks.map((c: any) => [c.chunk_id, c.score])).toEqual(direct.body.results.map((r: any) => [r.chunk_id, r.score]));
    expect(await count("SELECT count(*) AS n FROM tool_usage WHERE tool_name = 'knowledge_search' AND user_id = ? AND caller = 'workflow' AND ok = 1", carol.id)).toBe(1);
  });

  it("the knowledge_search tool does not find another user's knowledge base", async () => {
    const graph = chain([{ id: 'ks', type: 'tool', config: { tool: 'knowledge_search', arguments: { kb_id: bobKb.id, query: '故宫' } } }]);
    const { body } = await run(carol.token, graph);
    expect(body.status).toBe('failed');
    expect(body.error).toMatchObject({ code: 'NOT_FOUND', node_id: 'ks' });
    expect(body.error.message).toMatch(/Knowledge base not found/);
    // Its owner finds it.
    const own = await run(bob.token, graph);
    expect(own.body.status, JSON.stringify(own.body.error)).toBe('succeeded');
  });

  it('knowledge_retrieval: chunks from several bases, best first, and the context an llm node takes', async () => {
    const graph = chain(
      [
        { id: 'kr', type: 'knowledge_retrieval', config: { kb_ids: [kb.id, '{{inputs.zoo}}'], query: '{{inputs.q}}', top_k: 3, mode: 'full-text' } },
        { id: 'ask', type: 'llm', config: { system_prompt: 'Passages:\n{{kr.context}}', prompt: '{{inputs.q}}' } },
      ],
      { chunks: '{{kr.chunks}}', context: '{{kr.context}}', answer: '{{ask.text}}' },
    );
    const { body } = await run(carol.token, graph, { q: '故宫 bamboo', zoo: zoo.id });
    expect(body.status, JSON.stringify(body.error)).toBe('succeeded');
    const { chunks, context, answer } = body.outputs;
    for (const c of chunks) expect(Object.keys(c).sort()).toEqual(['content', 'document_id', 'document_name', 'kb_id', 'score']);
    expect(chunks).toContainEqual(expect.objectContaining({ document_id: palace.id, document_name: '故宫', kb_id: kb.id, content: PALACE }));
    expect(chunks).toContainEqual(expect.objectContaining({ document_id: panda.id, document_name: 'Pandas', kb_id: zoo.id }));
    const scores = chunks.map((c: { score: number }) => c.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(context).toBe(chunks.map((c: any, i: number) => `[${i + 1}] ${c.document_name}\n${c.content}`).join('\n\n'));
    expect(answer).toBe('echo: 故宫 bamboo');
    // The model got the passages: the llm call's prompt is far longer than the question.
    expect(body.token_usage.prompt_tokens).toBeGreaterThan(30);

    // top_k counts over all the bases; a list reference works; score_threshold drops chunks.
    const one = await nodeRun({ type: 'knowledge_retrieval', config: { kb_ids: '{{inputs.kbs}}', query: '故宫 bamboo', top_k: 1, mode: 'full-text' } }, { kbs: [kb.id, zoo.id] });
    expect(one.status, one.text).toBe(200);
    expect(one.body.status).toBe('succeeded');
    expect(one.body.outputs.chunks).toHaveLength(1);
    expect(one.body.outputs.chunks[0].score).toBe(scores[0]);
    const none = await nodeRun({ type: 'knowledge_retrieval', config: { kb_ids: [kb.id], query: '故宫', mode: 'full-text', score_threshold: 1e6 } });
    expect(none.body.outputs).toEqual({ chunks: [], context: '' });
  });

  it("knowledge_retrieval fails with NOT_FOUND for a base the run's owner may not read, and checks its config", async () => {
    const { body } = await run(carol.token, chain([{ id: 'kr', type: 'knowledge_retrieval', config: { kb_ids: [kb.id, bobKb.id], query: '故宫' } }]));
    expect(body.status).toBe('failed');
    expect(body.error).toMatchObject({ code: 'NOT_FOUND', node_id: 'kr' });
    expect(body.error.message).toContain(bobKb.id);
    expect((await nodeRun({ type: 'knowledge_retrieval', config: { kb_ids: ['{{inputs.k}}'], query: 'x' } }, { k: 'not-an-id' })).body.error).toMatchObject({ code: 'INVALID_CONFIG' });

    const validate = (config: Record<string, unknown>) =>
      api('/api/v1/workflows/validate', { token: carol.token, json: { graph: chain([{ id: 'kr', type: 'knowledge_retrieval', config }]) } });
    expect((await validate({ kb_ids: [kb.id], query: 'q', top_k: 3, mode: 'hybrid', score_threshold: 0.1 })).body).toEqual({ valid: true, errors: [] });
    const bad = await validate({ kb_ids: [], query: 'q', mode: 'vector' });
    expect(bad.body.valid).toBe(false);
    expect(bad.body.errors.map((e: { code: string }) => e.code)).toEqual(['INVALID_CONFIG']);
  });

  it('document_extractor: the text of an upload or a knowledge document, within max_chars', async () => {
    const txt = await upload(carol, '第一行\n第二行 with more words', 'notes.txt');
    const whole = await nodeRun({ type: 'document_extractor', config: { upload_id: '{{inputs.file}}' } }, { file: txt.body.id });
    expect(whole.body.status, whole.text).toBe('succeeded');
    expect(whole.body.outputs).toEqual({
      text: '第一行\n第二行 with more words',
      truncated: false,
      char_count: 23,
      pages: null,
      name: 'notes.txt',
      content_type: 'text/plain',
      source: 'upload',
    });
    const cut = await nodeRun({ type: 'document_extractor', config: { upload_id: txt.body.id, max_chars: 3 } });
    expect(cut.body.outputs).toMatchObject({ text: '第一行', truncated: true, char_count: 23 });

    const doc = await nodeRun({ type: 'document_extractor', config: { document_id: palace.id } });
    expect(doc.body.outputs).toEqual({ text: PALACE, truncated: false, char_count: [...PALACE].length, pages: null, name: '故宫', content_type: 'text/plain', source: 'document' });

    // Someone else's upload or document reads as missing.
    const bobFile = await upload(bob, 'private', 'bob.txt');
    expect((await nodeRun({ type: 'document_extractor', config: { upload_id: bobFile.body.id } })).body.error).toMatchObject({ code: 'NOT_FOUND' });
    expect((await nodeRun({ type: 'document_extractor', config: { document_id: bobDoc.id } })).body.error).toMatchObject({ code: 'NOT_FOUND' });
    expect((await nodeRun({ type: 'document_extractor', config: { document_id: crypto.randomUUID() } })).body.error).toMatchObject({ code: 'NOT_FOUND' });
    // Exactly one source.
    expect(expectError(await nodeRun({ type: 'document_extractor', config: { upload_id: txt.body.id, document_id: palace.id } }), 422).message).toContain('exactly one of upload_id and document_id');
    expectError(await nodeRun({ type: 'document_extractor', config: {} }), 422);
  });

  it('document_extractor reads a PDF through the runtime worker, its first max_pages pages, in a workflow run', async () => {
    const pdf = await upload(carol, makePdf(['First page words', 'Second page words', 'Third page words']), 'three.pdf');
    expect(pdf.body.content_type).toBe('application/pdf');
    const graph = chain([{ id: 'x', type: 'document_extractor', config: { upload_id: '{{inputs.file}}', max_pages: '{{inputs.pages}}' } }], {
      text: '{{x.text}}',
      pages: '{{x.pages}}',
      truncated: '{{x.truncated}}',
    });
    // max_pages is a number, not a template.
    expect((await api('/api/v1/workflows/validate', { token: carol.token, json: { graph } })).body.valid).toBe(false);
    graph.nodes[1].config.max_pages = 2;
    const { body } = await run(carol.token, graph, { file: pdf.body.id });
    expect(body.status, JSON.stringify(body.error)).toBe('succeeded');
    expect(body.outputs.text).toContain('First page words');
    expect(body.outputs.text).toContain('Second page words');
    expect(body.outputs.text).not.toContain('Third page words');
    expect(body.outputs).toMatchObject({ pages: 3, truncated: true });
    const all = await nodeRun({ type: 'document_extractor', config: { upload_id: pdf.body.id } });
    expect(all.body.outputs).toMatchObject({ pages: 3, truncated: false, content_type: 'application/pdf', name: 'three.pdf' });
    expect(all.body.outputs.text).toContain('Third page words');

    const broken = await upload(carol, '%PDF-1.4\nthis is not really a pdf', 'broken.pdf');
    const failed = await nodeRun({ type: 'document_extractor', config: { upload_id: broken.body.id } });
    expect(failed.body.error).toMatchObject({ code: 'EXTRACTION_FAILED' });
    expect(failed.body.error.message).toMatch(/PDF/);
  });

  it('document_extractor refuses a stored file of a type it cannot read, naming the type', async () => {
    // Uploads refuse such files at the door (415); a row stored otherwise (an older import) still gets a clear error.
    const id = crypto.randomUUID();
    const key = `uploads/${carol.id}/${id}`;
    await env.FILES.put(key, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    await env.DB.prepare("INSERT INTO uploads (id, owner_id, filename, content_type, size, sha256, storage_key) VALUES (?, ?, 'logo.png', 'image/png', 8, 'x', ?)")
      .bind(id, carol.id, key)
      .run();
    const res = await nodeRun({ type: 'document_extractor', config: { upload_id: id } });
    expect(res.body.status).toBe('failed');
    expect(res.body.error.code).toBe('UNSUPPORTED_TYPE');
    expect(res.body.error.message).toContain('image/png');
    expect(res.body.error.message).toContain('application/pdf');
    expect(res.body.attempts).toBe(1);
  });
});
