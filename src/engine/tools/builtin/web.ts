import type { Env } from '../../../env';
import { ApiError } from '../../../lib/errors';
import { guardedFetch } from '../../../lib/outbound';
import { int, obj, requireConfig, str, tool } from '../define';
import { decodeEntities, htmlTitle, htmlToMarkdown, htmlToText } from './html';

const category = 'web';
const UA = 'TiangongAgent/1.0 (+tools)';

/** Reads a guarded response as text, its JSON parsed when it says it is JSON. */
export async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (/json/i.test(res.headers.get('content-type') ?? '')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

const headerSchema = { type: 'object', additionalProperties: { type: 'string' }, description: 'Request headers' };

export const httpRequest = tool<{ url: string; method?: string; headers?: Record<string, string>; query?: Record<string, string | number | boolean>; body?: unknown; timeout_ms?: number }>({
  name: 'http_request',
  category,
  description: 'Make an HTTP request to a public URL (GET, POST, PUT, PATCH, DELETE, HEAD) and get the status, headers and body (JSON parsed). Private and internal addresses are refused.',
  description_zh: '向公网 URL 发起 HTTP 请求(GET、POST、PUT、PATCH、DELETE、HEAD),返回状态码、响应头和响应体(JSON 自动解析);拒绝内网和内部地址。',
  parameters: obj({
    url: str('http(s) URL', { maxLength: 8192 }),
    method: { type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'], default: 'GET' },
    headers: headerSchema,
    query: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, description: 'Query parameters to add' },
    body: { description: 'Request body: a string is sent as is, anything else as JSON' },
    timeout_ms: int('Timeout', { minimum: 100, maximum: 30000, default: 15000 }),
  }, ['url']),
  async execute({ url, method = 'GET', headers = {}, query, body, timeout_ms = 15000 }, ctx) {
    const u = new URL(url);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.append(k, String(v));
    const h = new Headers(headers);
    if (!h.has('user-agent')) h.set('user-agent', UA);
    let payload: string | undefined;
    if (body !== undefined && method !== 'GET' && method !== 'HEAD') {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      if (typeof body !== 'string' && !h.has('content-type')) h.set('content-type', 'application/json');
    }
    const res = await guardedFetch(ctx.env, u, { method, headers: h, body: payload, signal: ctx.signal }, { timeoutMs: timeout_ms, maxBytes: 2 * 1024 * 1024 });
    return { status: res.status, ok: res.ok, url: u.toString(), headers: Object.fromEntries(res.headers), body: method === 'HEAD' ? null : await readBody(res) };
  },
});

export const webFetch = tool<{ url: string; format?: string; max_chars?: number }>({
  name: 'web_fetch',
  category,
  description: 'Fetch a public web page and return its title and readable content as plain text or Markdown (scripts, styles and markup removed).',
  description_zh: '抓取公网网页,返回标题和可读内容(纯文本或 Markdown,去除脚本、样式和标签)。',
  parameters: obj({ url: str('http(s) URL of the page', { maxLength: 8192 }), format: { type: 'string', enum: ['text', 'markdown'], default: 'text' }, max_chars: int('Cut the content at this many characters', { minimum: 100, maximum: 200000, default: 20000 }) }, ['url']),
  async execute({ url, format = 'text', max_chars = 20000 }, ctx) {
    const res = await guardedFetch(ctx.env, url, { headers: { 'user-agent': UA, accept: 'text/html,text/plain;q=0.9,*/*;q=0.5' }, signal: ctx.signal }, { timeoutMs: 15000, maxBytes: 5 * 1024 * 1024 });
    if (!res.ok) throw new ApiError(502, 'UPSTREAM_ERROR', `${new URL(url).host} answered ${res.status}`);
    const type = res.headers.get('content-type') ?? '';
    const raw = await res.text();
    const isHtml = /html/i.test(type) || /^\s*<(!doctype|html)/i.test(raw);
    const content = isHtml ? (format === 'markdown' ? htmlToMarkdown(raw) : htmlToText(raw)) : raw;
    return {
      url,
      status: res.status,
      content_type: type || null,
      title: isHtml ? htmlTitle(raw) : null,
      content: content.slice(0, max_chars),
      truncated: content.length > max_chars,
      length: content.length,
    };
  },
});

interface SearchHit {
  title: string;
  url: string;
  snippet: string;
}

/** Results from the common shapes of search APIs: {results:[...]}, Brave's {web:{results}}, {items}. */
function normaliseResults(body: unknown): SearchHit[] {
  const b = body as Record<string, any>;
  const list: any[] = Array.isArray(b?.results) ? b.results : Array.isArray(b?.web?.results) ? b.web.results : Array.isArray(b?.items) ? b.items : Array.isArray(b?.organic) ? b.organic : Array.isArray(b) ? b : [];
  return list
    .map((r) => ({
      title: String(r.title ?? r.name ?? ''),
      url: String(r.url ?? r.link ?? r.href ?? ''),
      snippet: String(r.snippet ?? r.content ?? r.description ?? r.summary ?? ''),
    }))
    .filter((r) => r.url);
}

export function searchConfigured(env: Env) {
  return !!env.WEB_SEARCH_URL;
}

export const webSearch = tool<{ query: string; count?: number; language?: string }>({
  name: 'web_search',
  category,
  description: 'Search the web through the configured search provider (WEB_SEARCH_URL, e.g. a SearXNG, Brave or other JSON search API) and return titles, URLs and snippets.',
  description_zh: '通过配置的搜索服务(WEB_SEARCH_URL,如 SearXNG、Brave 等 JSON 搜索 API)进行网页搜索,返回标题、链接和摘要。',
  parameters: obj({ query: str('Search terms', { minLength: 1, maxLength: 500 }), count: int('Number of results', { minimum: 1, maximum: 20, default: 5 }), language: str('Language code, e.g. zh-CN, en') }, ['query']),
  isConfigured: searchConfigured,
  async execute({ query, count = 5, language }, ctx) {
    const { WEB_SEARCH_URL } = requireConfig(ctx.env, 'web_search', 'WEB_SEARCH_URL');
    const u = new URL(WEB_SEARCH_URL);
    u.searchParams.set('q', query);
    u.searchParams.set('count', String(count));
    u.searchParams.set('format', 'json');
    if (language) u.searchParams.set('language', language);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': UA };
    if (ctx.env.WEB_SEARCH_API_KEY) {
      headers.authorization = `Bearer ${ctx.env.WEB_SEARCH_API_KEY}`;
      headers['x-subscription-token'] = ctx.env.WEB_SEARCH_API_KEY;
    }
    const res = await guardedFetch(ctx.env, u, { headers, signal: ctx.signal }, { timeoutMs: 15000, maxBytes: 2 * 1024 * 1024 });
    if (!res.ok) throw new ApiError(502, 'UPSTREAM_ERROR', `The search provider answered ${res.status}`);
    const results = normaliseResults(await readBody(res)).slice(0, count);
    return { query, count: results.length, results };
  },
});

function tag(xml: string, names: string[]): string | null {
  for (const name of names) {
    const m = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, 'i').exec(xml);
    if (m) {
      const inner = m[1].replace(/^\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*$/, '$1');
      return decodeEntities(inner).trim();
    }
  }
  return null;
}

/** RSS 2.0, RSS 1.0 (RDF) and Atom feeds into one item shape. */
export function parseFeed(xml: string) {
  const atom = /<feed[\s>]/i.test(xml);
  const blocks = xml.match(atom ? /<entry[\s>][\s\S]*?<\/entry>/gi : /<item[\s>][\s\S]*?<\/item>/gi) ?? [];
  const head = xml.slice(0, xml.search(atom ? /<entry[\s>]/i : /<item[\s>]/i) >>> 0);
  const items = blocks.map((b) => {
    const atomLink = /<link\b[^>]*?href=["']([^"']+)["'][^>]*?(?:rel=["']alternate["'])?[^>]*\/?>/i.exec(b)?.[1] ?? null;
    const summary = tag(b, ['description', 'summary', 'content:encoded', 'content']);
    return {
      title: tag(b, ['title']) ?? '',
      link: atom ? atomLink : (tag(b, ['link']) ?? atomLink ?? tag(b, ['guid'])),
      published: tag(b, ['pubDate', 'published', 'updated', 'dc:date']),
      author: tag(b, ['author', 'dc:creator']),
      summary: summary ? htmlToText(summary).slice(0, 2000) : null,
    };
  });
  return { title: tag(head, ['title']), link: atom ? (/<link\b[^>]*href=["']([^"']+)["']/i.exec(head)?.[1] ?? null) : tag(head, ['link']), items };
}

export const rssRead = tool<{ url: string; limit?: number }>({
  name: 'rss_read',
  category,
  description: 'Read an RSS or Atom feed: the feed title and its latest items with title, link, date, author and a text summary.',
  description_zh: '读取 RSS 或 Atom 订阅源:返回源标题及最新条目的标题、链接、日期、作者和文本摘要。',
  parameters: obj({ url: str('Feed URL', { maxLength: 8192 }), limit: int('At most this many items', { minimum: 1, maximum: 100, default: 10 }) }, ['url']),
  async execute({ url, limit = 10 }, ctx) {
    const res = await guardedFetch(ctx.env, url, { headers: { 'user-agent': UA, accept: 'application/rss+xml, application/atom+xml, application/xml, text/xml' }, signal: ctx.signal }, { timeoutMs: 15000, maxBytes: 5 * 1024 * 1024 });
    if (!res.ok) throw new ApiError(502, 'UPSTREAM_ERROR', `${new URL(url).host} answered ${res.status}`);
    const xml = await res.text();
    const feed = parseFeed(xml);
    if (!/<(rss|feed|rdf:RDF)[\s>]/i.test(xml)) throw new ApiError(502, 'UPSTREAM_ERROR', 'The address did not return an RSS or Atom feed');
    return { ...feed, items: feed.items.slice(0, limit), total_items: feed.items.length };
  },
});

export const webTools = [httpRequest, webFetch, webSearch, rssRead];
