import { env, exports } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeTool } from '../../src/engine/tools/invoke';
import { builtinTools } from '../../src/engine/tools/registry';
import type { Env } from '../../src/env';
import { MAX_DELEGATION_DEPTH } from '../../src/runs/agent-turn';
import { ApiError } from '../../src/lib/errors';
import { createUser } from '../support/helpers';

let userId: string;
const exercised = new Set<string>();

beforeAll(async () => {
  userId = (await createUser('builtin')).id;
});

async function run(name: string, args: Record<string, unknown> = {}, extra: { env?: Partial<Env>; sessionId?: string } = {}): Promise<any> {
  exercised.add(name);
  const outcome = await invokeTool({ env: { ...env, ...extra.env }, userId, sessionId: extra.sessionId, caller: 'test' }, name, args);
  return outcome.output;
}

async function fails(name: string, args: Record<string, unknown>, extra: { env?: Partial<Env> } = {}): Promise<ApiError> {
  try {
    await run(name, args, extra);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error(`${name} was expected to fail`);
}

describe('registry', () => {
  it('has 56 tools (50 of its own, 6 added by the tasks, notifications, feishu, agents, workflows and knowledge-bases modules), each described in English and Chinese with an object schema', () => {
    expect(builtinTools).toHaveLength(56);
    for (const t of builtinTools) {
      expect(t.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(t.description.length, t.name).toBeGreaterThan(20);
      expect(t.description_zh, t.name).toMatch(/[\u4e00-\u9fff]/);
      expect(t.parameters.type, t.name).toBe('object');
    }
  });

  it('validates arguments against the schema, naming the field', async () => {
    const e = await fails('calculator', {});
    expect(e.status).toBe(422);
    expect(e.message).toContain('arguments.expression: is required');
    expect((await fails('calculator', { expression: 5 })).message).toContain('arguments.expression: must be string');
    expect((await fails('calculator', { expression: '1', extra: true })).message).toContain('arguments.extra: is not an allowed property');
    expect((await fails('uuid_generate', { count: 0 })).message).toContain('arguments.count: must be >= 1');
  });
});

describe('math', () => {
  it('calculator parses precedence, powers, functions and factorials without eval', async () => {
    expect((await run('calculator', { expression: '2 + 3 * 4' })).result).toBe(14);
    expect((await run('calculator', { expression: '2 ^ 3 ^ 2' })).result).toBe(512);
    expect((await run('calculator', { expression: '-2^2' })).result).toBe(-4);
    expect((await run('calculator', { expression: '(1 + 2) * (3 + 4) / 7' })).result).toBe(3);
    expect((await run('calculator', { expression: 'sqrt(16) + abs(-3) + max(1, 9, 4) + 5!' })).result).toBe(136);
    expect((await run('calculator', { expression: 'round(pi, 4)' })).result).toBe(3.1416);
    expect((await run('calculator', { expression: '0.1 + 0.2' })).result).toBe(0.3);
    expect((await run('calculator', { expression: '10 % 4 + 2 ** 10' })).result).toBe(1026);
    for (const bad of ['1 +', '2 ** ', 'process.exit()', 'constructor', 'toString(1)', '__proto__', '1 / 0', 'foo(1)', '(1 + 2']) {
      expect((await fails('calculator', { expression: bad })).status, bad).toBe(422);
    }
  });

  it('statistics', async () => {
    const s = await run('statistics', { numbers: [2, 4, 4, 4, 5, 5, 7, 9], percentiles: [90] });
    expect(s).toMatchObject({ count: 8, sum: 40, mean: 5, median: 4.5, mode: [4], min: 2, max: 9, range: 7, variance: 4, std_dev: 2, q1: 4, q3: 5.5 });
    expect(s.sample_variance).toBeCloseTo(4.571428571, 6);
    expect(s.percentiles.p90).toBeCloseTo(7.6, 6);
  });

  it('unit_convert', async () => {
    expect((await run('unit_convert', { value: 1, from: 'mi', to: 'km' })).result).toBeCloseTo(1.609344, 6);
    expect((await run('unit_convert', { value: 100, from: '°C', to: 'F' })).result).toBe(212);
    expect((await run('unit_convert', { value: 1, from: 'GiB', to: 'MB' })).result).toBeCloseTo(1073.741824, 6);
    expect((await run('unit_convert', { value: 2, from: '斤', to: 'kg' })).result).toBe(1);
    expect((await fails('unit_convert', { value: 1, from: 'kg', to: 'km' })).message).toContain('different dimensions');
    expect((await fails('unit_convert', { value: 1, from: 'parsec', to: 'km' })).message).toContain('Unknown unit parsec');
  });

  it('random_number', async () => {
    const { numbers } = await run('random_number', { min: 1, max: 10, count: 10, unique: true });
    expect([...numbers].sort((a: number, b: number) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const dec = await run('random_number', { min: 0, max: 1, integer: false, count: 20 });
    expect(dec.numbers.every((x: number) => x >= 0 && x <= 1)).toBe(true);
    expect((await fails('random_number', { min: 1, max: 3, count: 5, unique: true })).status).toBe(422);
  });

  it('number_format', async () => {
    expect((await run('number_format', { value: 1234567.891, maximum_fraction_digits: 2 })).formatted).toBe('1,234,567.89');
    expect((await run('number_format', { value: 0.256, style: 'percent' })).formatted).toBe('26%');
    expect((await run('number_format', { value: 1234.5, locale: 'zh-CN', style: 'currency', currency: 'CNY' })).formatted).toBe('¥1,234.50');
    expect((await fails('number_format', { value: 1, style: 'currency' })).message).toContain('currency');
  });
});

describe('time', () => {
  it('current_time in a zone', async () => {
    const t = await run('current_time', { timezone: 'Asia/Shanghai' });
    expect(t.utc_offset).toBe('+08:00');
    expect(Math.abs(t.unix - Date.now() / 1000)).toBeLessThan(5);
    expect(t.local_iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
    expect((await fails('current_time', { timezone: 'Mars/Olympus' })).message).toContain('Unknown time zone');
  });

  it('timezone_convert across DST', async () => {
    const r = await run('timezone_convert', { time: '2026-07-01 09:30', from_timezone: 'Asia/Shanghai', to_timezone: 'America/New_York' });
    expect(r.from.iso).toBe('2026-07-01T01:30:00.000Z');
    expect(r.to.local).toBe('2026-06-30 21:30:00');
    expect(r.to.utc_offset).toBe('-04:00');
    const winter = await run('timezone_convert', { time: '2026-01-15T12:00:00Z', to_timezone: 'Europe/Berlin' });
    expect(winter.to.local).toBe('2026-01-15 13:00:00');
  });

  it('date_add clamps month ends and moves fixed units', async () => {
    expect((await run('date_add', { date: '2026-01-31', months: 1 })).result.date).toBe('2026-02-28');
    expect((await run('date_add', { date: '2024-02-29', years: 1 })).result.date).toBe('2025-02-28');
    expect((await run('date_add', { date: '2026-03-01T00:00:00Z', days: -1, hours: 12 })).result.iso).toBe('2026-02-28T12:00:00.000Z');
    expect((await run('date_add', { date: '2026-03-07 10:00', days: 1, timezone: 'America/New_York' })).result.local).toBe('2026-03-08 11:00:00');
    expect((await run('date_add', { date: '2026-03-07 10:00', months: 1, timezone: 'America/New_York' })).result.local).toBe('2026-04-07 10:00:00');
  });

  it('date_diff', async () => {
    const d = await run('date_diff', { start: '2024-01-15', end: '2026-03-10' });
    expect(d.calendar).toEqual({ sign: 1, years: 2, months: 1, days: 23 });
    expect(d.days).toBe(785);
    expect((await run('date_diff', { start: '2026-01-02', end: '2026-01-01' })).days).toBe(-1);
  });

  it('cron_next_runs', async () => {
    const r = await run('cron_next_runs', { expression: '0 9 * * 1-5', count: 3, timezone: 'Asia/Shanghai', from: '2026-06-05T12:00:00+08:00' });
    expect(r.runs.map((x: any) => x.local)).toEqual(['2026-06-08 09:00:00', '2026-06-09 09:00:00', '2026-06-10 09:00:00']);
    expect(r.runs[0].iso).toBe('2026-06-08T01:00:00.000Z');
    expect((await fails('cron_next_runs', { expression: 'every day' })).message).toContain('Invalid cron');
  });

  it('timestamp_convert', async () => {
    expect((await run('timestamp_convert', { value: 1767225600 })).iso).toBe('2026-01-01T00:00:00.000Z');
    expect((await run('timestamp_convert', { value: '1767225600000' })).unix).toBe(1767225600);
    expect((await run('timestamp_convert', { value: '2026-01-01T08:00:00+08:00' })).unix).toBe(1767225600);
    expect((await fails('timestamp_convert', { value: 'yesterday-ish' })).status).toBe(422);
  });
});

describe('text', () => {
  it('regex_extract with groups, in the sandbox', async () => {
    const r = await run('regex_extract', { text: 'Order A-12 and B-7, total ¥30', pattern: '(?<kind>[A-Z])-(\\d+)' });
    expect(r.count).toBe(2);
    expect(r.matches[0]).toEqual({ match: 'A-12', index: 6, groups: ['A', '12'], named: { kind: 'A' } });
    expect((await fails('regex_extract', { text: 'x', pattern: '(' })).message).toContain('Invalid regular expression');
  });

  it('a catastrophic-backtracking pattern is stopped, not the worker', async () => {
    const e = await fails('regex_extract', { text: 'a'.repeat(40) + 'b', pattern: '^(a+)+$' });
    expect(e.status).toBe(504);
  });

  it('regex_replace with $1 and named groups', async () => {
    expect(await run('regex_replace', { text: '2026-06-01', pattern: '(\\d+)-(\\d+)-(\\d+)', replacement: '$3/$2/$1' })).toEqual({ result: '01/06/2026', replacements: 1 });
    expect((await run('regex_replace', { text: 'a1b22c333', pattern: '\\d+', replacement: '#' })).result).toBe('a#b#c#');
    expect((await run('regex_replace', { text: 'a1b2', pattern: '\\d', replacement: '#', all: false })).result).toBe('a#b2');
  });

  it('text_split', async () => {
    expect((await run('text_split', { text: '你好。今天天气很好!Is it? Yes.', mode: 'sentences' })).parts).toEqual(['你好。', '今天天气很好!', 'Is it?', 'Yes.']);
    expect((await run('text_split', { text: 'abcdefghij', mode: 'chunks', chunk_size: 4, overlap: 1 })).parts).toEqual(['abcd', 'defg', 'ghij']);
    expect((await run('text_split', { text: 'a,b,,c', mode: 'separator', separator: ',' })).parts).toEqual(['a', 'b', '', 'c']);
    expect((await run('text_split', { text: 'p1\n\n\np2', mode: 'paragraphs' })).parts).toEqual(['p1', 'p2']);
  });

  it('text_diff', async () => {
    const d = await run('text_diff', { old_text: 'a\nb\nc\n', new_text: 'a\nB\nc\nd\n' });
    expect(d.identical).toBe(false);
    expect(d.added).toBe(2);
    expect(d.removed).toBe(1);
    expect(d.patch).toContain('-b\n+B');
    expect((await run('text_diff', { old_text: 'same', new_text: 'same' })).identical).toBe(true);
  });

  it('text_count counts CJK characters as words', async () => {
    const c = await run('text_count', { text: '你好世界 hello world.\n\nSecond paragraph!' });
    expect(c).toMatchObject({ cjk_characters: 4, words: 8, lines: 3, paragraphs: 2 });
    expect(c.bytes).toBe(new TextEncoder().encode('你好世界 hello world.\n\nSecond paragraph!').length);
  });

  it('template_render with paths and filters', async () => {
    const r = await run('template_render', { template: 'Hi {{ user.name | upper }}: {{items | join:" & "}} {{missing | default:"n/a"}} q={{q|url}}', variables: { user: { name: 'ada' }, items: ['x', 'y'], q: 'a b' } });
    expect(r.result).toBe('Hi ADA: x & y n/a q=a%20b');
    expect((await fails('template_render', { template: '{{nope}}', strict: true })).message).toContain('nope');
  });

  it('markdown_to_html escapes raw HTML unless allowed', async () => {
    const r = await run('markdown_to_html', { markdown: '# Title\n\n**bold** [x](https://e.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(1)</script>' });
    expect(r.html).toContain('<h1>Title</h1>');
    expect(r.html).toContain('<strong>bold</strong>');
    expect(r.html).toContain('<table>');
    expect(r.html).not.toContain('<script>');
    expect(r.html).toContain('&lt;script&gt;');
    expect((await run('markdown_to_html', { markdown: '<b>ok</b>', allow_html: true })).html).toContain('<b>ok</b>');
  });

  it('html_to_markdown', async () => {
    const md = (await run('html_to_markdown', { html: '<h2>Head</h2><p>Some <strong>bold</strong> and <a href="https://e.com">a link</a>.</p><ul><li>one</li><li>two</li></ul><pre><code>x = 1</code></pre><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table><script>bad()</script>' })).markdown;
    expect(md).toContain('## Head');
    expect(md).toContain('Some **bold** and [a link](https://e.com).');
    expect(md).toContain('- one\n- two');
    expect(md).toContain('```\nx = 1\n```');
    expect(md).toContain('| a | b |\n| --- | --- |\n| 1 | 2 |');
    expect(md).not.toContain('bad()');
  });

  it('html_to_text', async () => {
    const t = (await run('html_to_text', { html: '<html><head><title>T</title><style>p{}</style></head><body><h1>Hi &amp; bye</h1><p>Line<br>two &#x4f60;&#22909;</p><ul><li>a</li></ul></body></html>' })).text;
    expect(t).toBe('Hi & bye\n\nLine\ntwo 你好\n\n• a');
  });

  it('text_case', async () => {
    expect((await run('text_case', { text: 'hello big world', to: 'camel' })).result).toBe('helloBigWorld');
    expect((await run('text_case', { text: 'helloBigWorld', to: 'snake' })).result).toBe('hello_big_world');
    expect((await run('text_case', { text: 'Crème Brûlée!', to: 'slug' })).result).toBe('creme-brulee');
    expect((await run('text_case', { text: 'the quick fox', to: 'title' })).result).toBe('The Quick Fox');
    expect((await run('text_case', { text: 'api key', to: 'constant' })).result).toBe('API_KEY');
  });
});

describe('data', () => {
  it('json_parse, also inside a code fence, and reports errors', async () => {
    const r = await run('json_parse', { text: '```json\n{"a": [1, 2]}\n```' });
    expect(r.value).toEqual({ a: [1, 2] });
    expect(r.type).toBe('object');
    expect((await fails('json_parse', { text: '{"a": }' })).message).toContain('Not valid JSON');
  });

  it('json_validate', async () => {
    const schema = { type: 'object', required: ['name', 'age'], properties: { name: { type: 'string', minLength: 2 }, age: { type: 'integer', minimum: 0 }, email: { type: 'string', format: 'email' } } };
    expect(await run('json_validate', { data: { name: 'Ada', age: 36 }, schema })).toEqual({ valid: true, errors: [] });
    const bad = await run('json_validate', { data: { name: 'A', age: -1.5, email: 'nope' }, schema });
    expect(bad.valid).toBe(false);
    expect(bad.errors).toEqual(['$.name: must be at least 2 characters', '$.age: must be integer, got number', '$.email: must be a valid email']);
  });

  it('json_path with wildcards, slices, descendants and filters', async () => {
    const data = { store: { book: [{ title: 'A', price: 8, tags: ['x'] }, { title: 'B', price: 12 }, { title: 'C', price: 5, tags: ['y'] }], bike: { price: 100 } } };
    expect((await run('json_path', { data, path: '$.store.book[*].title' })).values).toEqual(['A', 'B', 'C']);
    expect((await run('json_path', { data, path: '$..price' })).values).toEqual([8, 12, 5, 100]);
    expect((await run('json_path', { data, path: '$.store.book[?(@.price < 10 && @.tags)].title' })).values).toEqual(['A', 'C']);
    expect((await run('json_path', { data, path: '$.store.book[-1:]' })).paths).toEqual(['$.store.book[2]']);
    expect((await run('json_path', { data, path: "$.store['bike'].price", first: true })).value).toBe(100);
    expect((await run('json_path', { data: JSON.stringify(data), path: '$.store.book[0,2].price' })).values).toEqual([8, 5]);
    expect((await fails('json_path', { data, path: 'store.book' })).message).toContain('Invalid JSONPath');
  });

  it('csv_to_json handles quotes, embedded delimiters and newlines', async () => {
    const r = await run('csv_to_json', { csv: 'name,age,note\r\n"Smith, J",42,"said ""hi""\nthen left"\nLi,,true\n' });
    expect(r.columns).toEqual(['name', 'age', 'note']);
    expect(r.rows).toEqual([
      { name: 'Smith, J', age: 42, note: 'said "hi"\nthen left' },
      { name: 'Li', age: null, note: true },
    ]);
    expect((await run('csv_to_json', { csv: 'a;b\n1;2', delimiter: ';', header: false, infer_types: false })).rows).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('json_to_csv round-trips with csv_to_json', async () => {
    const rows = [{ name: 'Smith, J', note: 'said "hi"' }, { name: 'Li', extra: 1 }];
    const { csv } = await run('json_to_csv', { rows });
    expect(csv).toBe('name,note,extra\r\n"Smith, J","said ""hi""",\r\nLi,,1');
    expect((await run('csv_to_json', { csv })).rows).toEqual([{ name: 'Smith, J', note: 'said "hi"', extra: null }, { name: 'Li', note: null, extra: 1 }]);
  });

  it('json_diff', async () => {
    const d = await run('json_diff', { old: { a: 1, b: { c: [1, 2] }, gone: true }, new: { a: 2, b: { c: [1, 3] }, added: 'x' } });
    expect(d.changes).toEqual([
      { path: '$.a', type: 'changed', old: 1, new: 2 },
      { path: '$.b.c[1]', type: 'changed', old: 2, new: 3 },
      { path: '$.gone', type: 'removed', old: true },
      { path: '$.added', type: 'added', new: 'x' },
    ]);
    expect((await run('json_diff', { old: [1], new: [1] })).equal).toBe(true);
  });
});

describe('encoding and crypto', () => {
  it('base64 both ways, UTF-8 and URL-safe', async () => {
    expect((await run('base64_encode', { text: '你好, world' })).result).toBe('5L2g5aW9LCB3b3JsZA==');
    expect((await run('base64_encode', { text: '??>', url_safe: true })).result).toBe('Pz8-');
    expect((await run('base64_decode', { data: '5L2g5aW9LCB3b3JsZA' })).text).toBe('你好, world');
    expect((await run('base64_decode', { data: '/w==' })).binary).toBe(true);
  });

  it('url_encode, url_decode and url_parse', async () => {
    expect((await run('url_encode', { text: 'a b&c=d/你' })).result).toBe('a%20b%26c%3Dd%2F%E4%BD%A0');
    expect((await run('url_encode', { text: 'a b', mode: 'form' })).result).toBe('a+b');
    expect((await run('url_decode', { text: 'a+b%26c', form: true })).result).toBe('a b&c');
    expect((await fails('url_decode', { text: '%E4%BD' })).status).toBe(422);
    const p = await run('url_parse', { url: 'https://u@example.com:8443/a/b%20c?x=1&x=2&y=3#frag' });
    expect(p).toMatchObject({ scheme: 'https', username: 'u', host: 'example.com', port: 8443, path: '/a/b%20c', segments: ['a', 'b c'], query: { x: ['1', '2'], y: '3' }, fragment: 'frag' });
  });

  it('hash and hmac match known vectors', async () => {
    expect((await run('hash', { text: 'abc' })).hash).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect((await run('hash', { text: 'abc', algorithm: 'md5' })).hash).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect((await run('hash', { text: 'abc', algorithm: 'sha1' })).hash).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    // RFC 4231 test case 2
    expect((await run('hmac', { message: 'what do ya want for nothing?', key: 'Jefe' })).signature).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('uuid_generate', async () => {
    const { uuids } = await run('uuid_generate', { count: 3 });
    expect(uuids).toHaveLength(3);
    for (const u of uuids) expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(uuids).size).toBe(3);
  });

  it('jwt_decode decodes, checks expiry and verifies HS256', async () => {
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({ sub: 'u1', role: 'x' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(1_700_000_000).setExpirationTime(1_700_000_600).sign(new TextEncoder().encode('s3cret'));
    const r = await run('jwt_decode', { token, secret: 's3cret' });
    expect(r).toMatchObject({ header: { alg: 'HS256' }, payload: { sub: 'u1', role: 'x' }, expired: true, verified: true, expires_at: '2023-11-14T22:23:20.000Z' });
    expect((await run('jwt_decode', { token, secret: 'wrong' })).verified).toBe(false);
    expect((await run('jwt_decode', { token })).verified).toBeNull();
    expect((await fails('jwt_decode', { token: 'not.a' })).status).toBe(422);
  });

  it('random_string', async () => {
    const { strings } = await run('random_string', { length: 32, charset: 'hex', count: 2 });
    expect(strings[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(strings[0]).not.toBe(strings[1]);
    expect((await run('random_string', { length: 10, alphabet: 'ab' })).strings[0]).toMatch(/^[ab]{10}$/);
  });
});

describe('web (against the local fake)', () => {
  const base = () => env.FAKE_BASE_URL;

  it('http_request sends method, query, JSON body; refuses private addresses', async () => {
    const r = await run('http_request', { url: `${base()}/basic/echo`, method: 'POST', query: { q: 'x y' }, body: { a: 1 }, headers: { 'X-Test': '1' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ method: 'POST', query: { q: 'x y' }, body: '{"a":1}' });
    expect(r.body.headers['content-type']).toBe('application/json');
    expect((await run('http_request', { url: `${base()}/basic/status?code=404` })).status).toBe(404);
    expect((await fails('http_request', { url: 'http://169.254.169.254/latest/meta-data/' })).code).toBe('SSRF_BLOCKED');
    expect((await fails('http_request', { url: 'http://localhost:8038/api/v1/auth/me' })).code).toBe('SSRF_BLOCKED');
    expect((await fails('http_request', { url: `${base()}/basic/slow?ms=1500`, timeout_ms: 200 })).status).toBe(504);
  });

  it('web_fetch returns title and readable text or Markdown', async () => {
    const r = await run('web_fetch', { url: `${base()}/tools/page.html` });
    expect(r.title).toBe('Fake Page');
    expect(r.content).toBe('Welcome\n\nHello link & more.\n\n• one\n• two');
    expect(r.content).not.toContain('steal');
    const md = await run('web_fetch', { url: `${base()}/tools/page.html`, format: 'markdown', max_chars: 100 });
    expect(md.content).toContain('# Welcome');
    expect(md.content).toContain('[link](https://example.com/x)');
    expect((await fails('web_fetch', { url: `${base()}/tools/fail` })).status).toBe(502);
  });

  it('web_search is 503 TOOL_NOT_CONFIGURED without a provider, and searches with one', async () => {
    const e = await fails('web_search', { query: 'x' });
    expect(e.status).toBe(503);
    expect(e.code).toBe('TOOL_NOT_CONFIGURED');
    const cfg = { env: { WEB_SEARCH_URL: `${base()}/tools/search`, WEB_SEARCH_API_KEY: 'search-key' } };
    const r = await run('web_search', { query: 'cloudflare workers', count: 3 }, cfg);
    expect(r.count).toBe(3);
    expect(r.results[0]).toEqual({ title: 'cloudflare workers result 1', url: 'https://example.com/1', snippet: 'About cloudflare workers (1)' });
    expect((await fails('web_search', { query: 'x' }, { env: { WEB_SEARCH_URL: `${base()}/tools/search`, WEB_SEARCH_API_KEY: 'wrong' } })).status).toBe(502);
  });

  it('rss_read reads RSS and Atom', async () => {
    const rss = await run('rss_read', { url: `${base()}/tools/feed.xml` });
    expect(rss.title).toBe('Fake & Feed');
    expect(rss.items[0]).toMatchObject({ title: 'First post', link: 'https://example.com/1', published: 'Mon, 01 Jun 2026 08:00:00 GMT', summary: 'Hello world' });
    expect(rss.items).toHaveLength(2);
    const atom = await run('rss_read', { url: `${base()}/tools/atom.xml`, limit: 5 });
    expect(atom.items[0]).toMatchObject({ title: 'Entry one', link: 'https://example.org/e1', published: '2026-06-02T10:00:00Z', summary: 'Sum <1>' });
    expect((await fails('rss_read', { url: `${base()}/tools/page.html` })).status).toBe(502);
  });
});

describe('ai (through the gateway, mock provider)', () => {
  it('ai_summarize and ai_translate call the default model with the text', async () => {
    const s = await run('ai_summarize', { text: 'The quick brown fox.' });
    expect(s.summary).toBe('echo: The quick brown fox.');
    expect(s.model).toBe('mock-1');
    expect(s.usage.total_tokens).toBeGreaterThan(0);
    expect((await run('ai_translate', { text: '你好', target_language: 'English' })).translation).toBe('echo: 你好');
  });

  it('ai_classify picks the label the reply names', async () => {
    const r = await run('ai_classify', { text: 'refund please', labels: ['complaint', 'refund', 'praise'] });
    expect(r).toMatchObject({ label: 'refund', matched: true });
    expect((await run('ai_classify', { text: 'hello', labels: ['a1', 'b1'] })).label).toBeNull();
  });

  it('ai_extract returns the named fields from JSON in the reply', async () => {
    const r = await run('ai_extract', { text: '{"name": "Ada", "city": "London", "noise": 1}', fields: { name: 'person', age: 'years' } });
    expect(r.data).toEqual({ name: 'Ada', age: null });
    expect(r.parsed).toBe(true);
    expect((await run('ai_extract', { text: 'no json here', fields: ['x'] })).data).toBeNull();
  });
});

describe('platform: session memory', () => {
  it('stores per session, recalls by key and prefix, forgets', async () => {
    await run('memory_store', { key: 'pref.lang', value: 'zh' }, { sessionId: 's1' });
    await run('memory_store', { key: 'pref.theme', value: { dark: true } }, { sessionId: 's1' });
    await run('memory_store', { key: 'pref.lang', value: 'en' }, { sessionId: 's1' });
    expect(await run('memory_recall', { key: 'pref.lang' }, { sessionId: 's1' })).toMatchObject({ found: true, value: 'en' });
    expect((await run('memory_recall', { key: 'pref.lang' }, { sessionId: 's2' })).found).toBe(false);
    const all = await run('memory_recall', { prefix: 'pref.' }, { sessionId: 's1' });
    expect(all.entries.map((e: any) => [e.key, e.value])).toEqual([['pref.lang', 'en'], ['pref.theme', { dark: true }]]);
    expect((await run('memory_recall', { prefix: 'pref%' }, { sessionId: 's1' })).count).toBe(0);
    await run('memory_recall', { key: 'pref.lang', delete: true }, { sessionId: 's1' });
    expect((await run('memory_recall', {}, { sessionId: 's1' })).count).toBe(1);
    await run('memory_store', { key: 'k', value: 1, namespace: 'shared' }, { sessionId: 's1' });
    expect((await run('memory_recall', { key: 'k', namespace: 'shared' }, { sessionId: 's9' })).value).toBe(1);
  });

  it("is the user's own", async () => {
    await run('memory_store', { key: 'mine', value: 42 });
    const other = await createUser('other');
    const out = await invokeTool({ env, userId: other.id }, 'memory_recall', { key: 'mine' });
    expect((out.output as any).found).toBe(false);
  });
});

describe('integrations (against the local fake)', () => {
  it('webhook_send posts JSON and signs it with the secret', async () => {
    const r = await run('webhook_send', { url: `${env.FAKE_BASE_URL}/tools/webhook`, payload: { event: 'done' }, secret: 'whsec' });
    expect(r.delivered).toBe(true);
    expect(r.response.received).toEqual({ event: 'done' });
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('whsec'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const sig = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${r.response.timestamp}.{"event":"done"}`));
    expect(r.response.signature).toBe('sha256=' + [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, '0')).join(''));
    expect((await fails('webhook_send', { url: `${env.FAKE_BASE_URL}/tools/fail`, payload: {} })).status).toBe(502);
    expect((await fails('webhook_send', { url: 'http://10.0.0.1/hook', payload: {} })).code).toBe('SSRF_BLOCKED');
  });

  it('email_send is 503 without configuration and sends through the provider with it', async () => {
    expect((await fails('email_send', { to: 'a@example.com', subject: 'Hi', text: 'x' })).code).toBe('TOOL_NOT_CONFIGURED');
    const cfg = { env: { EMAIL_API_URL: `${env.FAKE_BASE_URL}/tools/email`, EMAIL_API_KEY: 'mail-key', EMAIL_FROM: 'bot@example.com' } };
    const r = await run('email_send', { to: ['a@example.com', 'b@example.com'], subject: 'Hello', text: 'Body' }, cfg);
    expect(r).toEqual({ sent: true, id: 'email-2-5', to: ['a@example.com', 'b@example.com'] });
    expect((await fails('email_send', { to: 'not-an-email', subject: 'x', text: 'y' }, cfg)).message).toContain('arguments.to');
    expect((await fails('email_send', { to: 'a@example.com', subject: 'x' }, cfg)).status).toBe(422);
  });
});

describe('code', () => {
  it('run_javascript runs in the sandbox with args and logs', async () => {
    const r = await run('run_javascript', { code: 'function main({ xs }) { console.log("n", xs.length); return xs.map((x) => x * 2) }', args: { xs: [1, 2, 3] } });
    expect(r).toEqual({ result: [2, 4, 6], logs: ['log: n 3'], logs_truncated: false });
    expect((await fails('run_javascript', { code: 'while (true) {}', timeout_ms: 100 })).status).toBe(504);
    expect((await fails('run_javascript', { code: 'fetch("https://example.com")' })).code).toBe('CODE_ERROR');
  });
});

describe('platform tools of other modules', () => {
  it('send_notification notifies the user the tool runs for', async () => {
    const r = await run('send_notification', { title: 'Report ready', body: 'See the goal', resource_type: 'goal', resource_id: 'g1' });
    expect(r.sent).toBe(true);
    const row = await env.DB.prepare('SELECT user_id, type, title, body, resource_type FROM notifications WHERE id = ?').bind(r.notification_id).first();
    expect(row).toEqual({ user_id: userId, type: 'agent_message', title: 'Report ready', body: 'See the goal', resource_type: 'goal' });
    expect((await fails('send_notification', {})).message).toContain('title');
  });

  it("feishu_send_message messages only the user's own bound Feishu account", async () => {
    expect((await fails('feishu_send_message', { text: 'hi' })).message).toContain('no bound Feishu account');
    await env.DB.prepare("INSERT INTO feishu_bindings (open_id, user_id) VALUES ('ou_tool_user', ?)").bind(userId).run();
    const r = await run('feishu_send_message', { text: 'Report ready' });
    expect(r).toMatchObject({ sent: true });
    const calls = (await (await fetch(`${env.FAKE_BASE_URL}/feishu/_calls`)).json()) as Array<{ path: string; body: any; accepted: boolean }>;
    const sent = calls.filter((c) => c.accepted && c.path === '/open-apis/im/v1/messages?receive_id_type=open_id');
    expect(sent.map((c) => [c.body.receive_id, JSON.parse(c.body.content).text])).toContainEqual(['ou_tool_user', 'Report ready']);
    expect((await fails('feishu_send_message', { text: 'x', chat_id: 'oc_elsewhere' })).message).toContain('not talked to the bot');
  });

  it("create_task adds a task to the user's own goal only", async () => {
    const me = await env.DB.prepare('SELECT email FROM users WHERE id = ?').bind(userId).first<{ email: string }>();
    const login = await exports.default.fetch(new Request('http://localhost/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: me!.email, password: 'correct horse battery' }) }));
    const token = ((await login.json()) as { access_token: string }).access_token;
    const goalRes = await exports.default.fetch(new Request('http://localhost/api/v1/goals', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify({ title: 'Ship it' }) }));
    const goal = (await goalRes.json()) as { id: string };
    const r = await run('create_task', { goal_id: goal.id, title: 'Write the notes' });
    expect(r).toMatchObject({ goal_id: goal.id, title: 'Write the notes' });
    const row = await env.DB.prepare('SELECT goal_id, owner_id, title FROM tasks WHERE id = ?').bind(r.task_id).first();
    expect(row).toEqual({ goal_id: goal.id, owner_id: userId, title: 'Write the notes' });

    const stranger = await createUser('stranger');
    const outcome = invokeTool({ env, userId: stranger.id, caller: 'test' }, 'create_task', { goal_id: goal.id, title: 'Hijack' });
    // A goal the caller cannot see is as good as absent: nothing is created.
    await expect(outcome).rejects.toMatchObject({ status: 422, code: 'VALIDATION_ERROR' });
    expect((await env.DB.prepare("SELECT count(*) AS n FROM tasks WHERE title = 'Hijack'").first<{ n: number }>())!.n).toBe(0);
  });

  it('run_agent and run_workflow run what the user may execute, one delegation level deeper, and refuse at the limit', async () => {
    const me = await env.DB.prepare('SELECT email FROM users WHERE id = ?').bind(userId).first<{ email: string }>();
    const login = await exports.default.fetch(new Request('http://localhost/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: me!.email, password: 'correct horse battery' }) }));
    const token = ((await login.json()) as { access_token: string }).access_token;
    const post = async (path: string, body: unknown) => {
      const res = await exports.default.fetch(new Request(`http://localhost/api/v1${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(body) }));
      return (await res.json()) as { id: string };
    };
    const agent = await post('/agents', { name: 'Echo', model_config: { provider: 'mock', model_name: 'mock-1' } });
    expect(await run('run_agent', { agent_id: agent.id, message: 'ping' })).toMatchObject({ agent_id: agent.id, reply: 'echo: ping', iterations: 1 });
    const wf = await post('/workflows', {
      name: 'double',
      graph: {
        nodes: [{ id: 'start', type: 'start' }, { id: 'end', type: 'end', config: { outputs: { twice: '{{inputs.x}}{{inputs.x}}' } } }],
        edges: [{ source: 'start', target: 'end' }],
      },
    });
    expect(await run('run_workflow', { workflow_id: wf.id, inputs: { x: 'ab' } })).toMatchObject({ status: 'succeeded', outputs: { twice: 'abab' } });

    // At the depth limit both refuse before doing anything.
    for (const [name, args] of [['run_agent', { agent_id: agent.id, message: 'x' }], ['run_workflow', { workflow_id: wf.id }]] as const) {
      const refused = invokeTool({ env, userId, caller: 'test', depth: MAX_DELEGATION_DEPTH }, name, args);
      await expect(refused).rejects.toMatchObject({ status: 409, code: 'MAX_DEPTH' });
    }
    const stranger = await createUser('stranger');
    await expect(invokeTool({ env, userId: stranger.id, caller: 'test' }, 'run_agent', { agent_id: agent.id, message: 'x' })).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await expect(invokeTool({ env, userId: stranger.id, caller: 'test' }, 'run_workflow', { workflow_id: wf.id })).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('knowledge_search', () => {
  // Searches end to end are in test/modules/knowledge and test/modules/agents (chat); here: its arguments and a missing base.
  it('validates its arguments and answers not found for a base that does not exist', async () => {
    expect((await fails('knowledge_search', { kb_id: crypto.randomUUID(), query: 'x', mode: 'vector' })).message).toContain('arguments.mode');
    expect((await fails('knowledge_search', { kb_id: crypto.randomUUID() })).message).toContain('arguments.query: is required');
    const missing = await fails('knowledge_search', { kb_id: crypto.randomUUID(), query: 'x' });
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

afterAll(() => {
  // Every builtin tool is exercised by a test above.
  const missing = builtinTools.map((t) => t.name).filter((n) => !exercised.has(n));
  expect(missing).toEqual([]);
});
