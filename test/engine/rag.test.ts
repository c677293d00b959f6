import { describe, expect, it } from 'vitest';
import { chunkText, markdownSections, splitSentences } from '../../src/engine/rag/chunker';
import { dot, HashedNgramEmbedder } from '../../src/engine/rag/embeddings';
import { csvToText, detectFileType, htmlToText, jsonToText, UnsupportedFileError } from '../../src/engine/rag/extract';
import { ftsMatchExpression, ftsTerms, queryTerms } from '../../src/engine/rag/fulltext';
import { reciprocalRankFusion } from '../../src/engine/rag/fusion';
import { LocalVectorIndex, quantize, TopK, type LocalVectorRows } from '../../src/engine/rag/vector-index';

const enc = (s: string) => new TextEncoder().encode(s);

describe('chunkers', () => {
  it('splits sentences at Chinese and Western punctuation, keeping closing quotes', () => {
    expect(splitSentences('他说：“你好。”然后走了！真的吗？是的。Version 3.14 is out. Next one')).toEqual([
      '他说：“你好。”',
      '然后走了！',
      '真的吗？',
      '是的。',
      'Version 3.14 is out.',
      'Next one',
    ]);
  });

  it('sentence strategy packs whole sentences within the size, with overlap', () => {
    const text = '第一句话在这里。第二句话在这里。第三句话在这里。第四句话在这里。';
    const chunks = chunkText(text, { strategy: 'sentence', chunk_size: 18, chunk_overlap: 8 });
    expect(chunks.map((c) => c.content)).toEqual(['第一句话在这里。第二句话在这里。', '第二句话在这里。第三句话在这里。', '第三句话在这里。第四句话在这里。']);
    for (const c of chunks) expect([...c.content].length).toBeLessThanOrEqual(18);
    expect(chunks.map((c) => c.position)).toEqual([0, 1, 2]);
  });

  it('joins Western sentences with a space', () => {
    const chunks = chunkText('One two. Three four. Five six.', { strategy: 'sentence', chunk_size: 100, chunk_overlap: 0 });
    expect(chunks[0].content).toBe('One two. Three four. Five six.');
  });

  it('fixed strategy slides a window of size by size - overlap, counting code points', () => {
    const chunks = chunkText('😀abcdefghij', { strategy: 'fixed', chunk_size: 4, chunk_overlap: 1 });
    expect(chunks.map((c) => c.content)).toEqual(['😀abc', 'cdef', 'fghi', 'ij']);
  });

  it('paragraph strategy keeps paragraphs whole and splits a long one by sentence', () => {
    const long = '甲'.repeat(30) + '。' + '乙'.repeat(30) + '。';
    const chunks = chunkText(`Short one.\n\nShort two.\n\n${long}`, { strategy: 'paragraph', chunk_size: 40, chunk_overlap: 0 });
    expect(chunks.map((c) => c.content)).toEqual(['Short one.\n\nShort two.', '甲'.repeat(30) + '。', '乙'.repeat(30) + '。']);
  });

  it('markdown strategy splits by heading, ignores # in code fences, leads with the heading path', () => {
    const md = '# Guide\nIntro text.\n## Install\nRun it.\n```sh\n# not a heading\n```\n## Use\nCall it.';
    expect(markdownSections(md).map((s) => s.path)).toEqual([['Guide'], ['Guide', 'Install'], ['Guide', 'Use']]);
    const chunks = chunkText(md, { strategy: 'markdown', chunk_size: 200, chunk_overlap: 0 });
    expect(chunks.map((c) => c.heading)).toEqual(['Guide', 'Guide > Install', 'Guide > Use']);
    expect(chunks[1].content).toBe('Guide > Install\nRun it.\n```sh\n# not a heading\n```');
  });

  it('no chunk for empty text', () => {
    expect(chunkText('  \n\n ', { strategy: 'sentence', chunk_size: 100, chunk_overlap: 10 })).toEqual([]);
  });
});

describe('full-text terms', () => {
  it('writes CJK unigrams and bigrams and lowercased words, space-separated', () => {
    expect(ftsTerms('故宫在北京 Hello')).toBe('故 宫 在 北 京 故宫 宫在 在北 北京 hello');
  });

  it('query terms: bigrams and words are strong, single characters weak', () => {
    expect(queryTerms('北京故宫 Tour')).toEqual({ strong: ['北京', '京故', '故宫', 'tour'], weak: ['北', '京', '故', '宫'] });
  });

  it('query terms leave out interrogatives, and no bigram spans the gap they leave', () => {
    expect(queryTerms('故宫在哪个城市？')).toEqual({ strong: ['故宫', '宫在', '个城', '城市'], weak: ['故', '宫', '在', '个', '城', '市'] });
    expect(queryTerms('谁设计了故宫')).toEqual({ strong: ['设计', '计了', '了故', '故宫'], weak: ['设', '计', '了', '故', '宫'] });
    expect(queryTerms('What is the Forbidden City?').strong).toEqual(['is', 'the', 'forbidden', 'city']);
    // Nothing but interrogatives: the query is searched as it is.
    expect(queryTerms('为什么？')).toEqual({ strong: ['为什', '什么'], weak: ['为', '什', '么'] });
    expect(queryTerms('什么是什么')).toEqual({ strong: [], weak: ['是'] });
  });

  it('the MATCH expression requires a strong term, names every term once, quotes everything and is scoped', () => {
    const kb = '00000000-0000-4000-8000-000000000001';
    const scope = '"k00000000000040008000000000000001"';
    expect(ftsMatchExpression(kb, '故宫a"b', ['00000000-0000-4000-8000-000000000002'])).toBe(
      `scope : ${scope} AND terms : ("故宫" OR "a" OR "b") AND (terms : ("故" OR "宫") OR scope : ${scope})` +
        ' AND scope : ("d00000000000040008000000000000002")',
    );
    expect(ftsMatchExpression(kb, 'hello "world"')).toBe(`scope : ${scope} AND terms : ("hello" OR "world")`);
    expect(ftsMatchExpression(kb, '宫')).toBe(`scope : ${scope} AND terms : ("宫")`);
    expect(ftsMatchExpression(kb, '？！。')).toBeNull();
  });
});

describe('hashed n-gram embedding', () => {
  const e = new HashedNgramEmbedder();
  it('is deterministic, unit length, and lexical', async () => {
    const [a, b, c, d] = await e.embed(['故宫位于北京', '故宫位于北京', '北京的故宫', '量子计算机']);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(dot(a, a)).toBeCloseTo(1, 5);
    expect(dot(a, c)).toBeGreaterThan(0.3);
    expect(Math.abs(dot(a, d))).toBeLessThan(e.noiseFloor * 2);
  });

  it('int8 quantisation keeps cosine within 1%', async () => {
    const [a, c] = await e.embed(['故宫位于北京', '北京的故宫']);
    const { data, scale } = quantize(a);
    let s = 0;
    for (let i = 0; i < data.length; i++) s += data[i] * c[i];
    expect(s * scale).toBeCloseTo(dot(a, c), 2);
  });
});

describe('local vector index', () => {
  const rows = (vectors: Float32Array[]): LocalVectorRows => {
    const stored = vectors.map((v, i) => {
      const { data, scale } = quantize(v);
      let bin = '';
      for (const b of new Uint8Array(data.buffer)) bin += String.fromCharCode(b);
      return { id: `c${i}`, documentId: `d${i % 2}`, embedding: btoa(bin), scale };
    });
    return {
      upsert: async () => {},
      signature: async () => ({ count: stored.length, maxSeq: stored.length }),
      load: async () => stored,
      deleteByIds: async () => {},
    };
  };

  it('ranks by cosine over the query\'s non-zero components, best first, within the documents asked for', async () => {
    const e = new HashedNgramEmbedder();
    const texts = ['故宫位于北京', '量子计算机', '北京的故宫博物院', '上海的外滩', '故宫'];
    const vectors = await e.embed(texts);
    const index = new LocalVectorIndex(rows(vectors));
    const [q] = await e.embed(['北京故宫']);
    const dense = vectors.map((v, i) => ({ id: `c${i}`, score: dot(v, q) })).sort((a, b) => b.score - a.score);
    const matches = await index.query('ns-sparse', q, { topK: 3 });
    expect(matches.map((m) => m.id)).toEqual(dense.slice(0, 3).map((m) => m.id));
    matches.forEach((m, i) => expect(m.score).toBeCloseTo(dense[i].score, 2));
    const inDoc = await index.query('ns-sparse', q, { topK: 10, documentIds: ['d1'] });
    expect(inDoc.map((m) => m.id).sort()).toEqual(['c1', 'c3']);
  });

  it('TopK keeps the k best, best first, earlier index first on equal scores', () => {
    const top = new TopK(3);
    [0.2, 0.9, 0.5, 0.9, 0.1, 0.7].forEach((s, i) => top.offer(i, s));
    expect(top.sorted()).toEqual([
      { index: 1, score: 0.9 },
      { index: 3, score: 0.9 },
      { index: 5, score: 0.7 },
    ]);
    const none = new TopK(0);
    none.offer(0, 1);
    expect(none.sorted()).toEqual([]);
  });
});

describe('reciprocal-rank fusion', () => {
  it('prefers items ranked by both lists and normalises to (0, 1]', () => {
    const fused = reciprocalRankFusion([[{ id: 'a' }, { id: 'b' }], [{ id: 'b' }, { id: 'c' }]]);
    expect(fused.map((f) => f.id)).toEqual(['b', 'a', 'c']);
    expect(fused[0].ranks).toEqual([2, 1]);
    const top = reciprocalRankFusion([[{ id: 'x' }], [{ id: 'x' }]]);
    expect(top[0].score).toBeCloseTo(1, 10);
  });

  it('weights lists', () => {
    const fused = reciprocalRankFusion([[{ id: 'a' }, { id: 'b' }], [{ id: 'b' }, { id: 'a' }]], { weights: [1, 0.1] });
    expect(fused[0].id).toBe('a');
  });
});

describe('file types and extraction', () => {
  it('decides the type from the bytes, not the name', () => {
    expect(detectFileType(enc('%PDF-1.7\n...'), 'notes.txt', 'text/plain')).toBe('application/pdf');
    expect(detectFileType(enc('just text'), 'fake.pdf', 'application/pdf')).toBe('text/plain');
    expect(detectFileType(enc('{"a":1}'), 'data.txt')).toBe('application/json');
    expect(detectFileType(enc('a,b\n1,2'), 'data.csv')).toBe('text/csv');
    expect(detectFileType(enc('# Title'), 'readme.md')).toBe('text/markdown');
    expect(detectFileType(enc('<!DOCTYPE html><p>x</p>'), 'page')).toBe('text/html');
    expect(() => detectFileType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0]), 'image.txt')).toThrow(UnsupportedFileError);
    expect(() => detectFileType(new Uint8Array([0xff, 0xfe, 0xfd, 0x00]), 'x.txt')).toThrow(UnsupportedFileError);
  });

  it('extracts visible HTML text, CSV records and JSON leaves', () => {
    expect(htmlToText('<html><head><title>t</title><style>p{}</style></head><body><h1>标题</h1><p>A &amp; B&#33;</p><script>x()</script></body></html>')).toBe(
      '标题\n\nA & B!',
    );
    expect(csvToText('name,city\n"Li, Lei",北京\nWang,"上海 ""浦东"""')).toBe('name: Li, Lei; city: 北京\n\nname: Wang; city: 上海 "浦东"');
    expect(jsonToText('{"a":{"b":[1,"x"]},"c":true}')).toBe('a.b[0]: 1\na.b[1]: x\nc: true');
  });
});
