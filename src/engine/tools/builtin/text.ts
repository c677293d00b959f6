import { createTwoFilesPatch, diffChars, diffLines, diffWords, type ChangeObject } from 'diff';
import { runSandboxed } from '../../sandbox';
import { bool, int, obj, str, tool, toolInputError } from '../define';
import { escapeHtml, htmlToMarkdown, htmlToText } from './html';

const category = 'text';
const MAX_TEXT = 1_000_000;
const text = (description: string) => str(description, { maxLength: MAX_TEXT });

// User regular expressions run inside the QuickJS sandbox, whose deadline also interrupts the
// regex engine: a catastrophic-backtracking pattern costs the caller a 504, not the worker.
async function inSandbox(code: string, args: Record<string, unknown>, timeoutMs = 2000) {
  return (await runSandboxed({ code, args, timeoutMs, maxOutputBytes: 4 * 1024 * 1024 })).result;
}

function checkRegex(pattern: string, flags: string) {
  try {
    new RegExp(pattern, flags);
  } catch (e) {
    throw toolInputError(`Invalid regular expression: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const flagsSchema = str('Regex flags: i (ignore case), m (multiline), s (dot matches newline), u (unicode)', { pattern: '^[imsu]*$', default: '' });

export const regexExtract = tool<{ text: string; pattern: string; flags?: string; max_matches?: number }>({
  name: 'regex_extract',
  category,
  description: 'Find all matches of a regular expression in a text, with capture groups (numbered and named) and positions.',
  description_zh: '用正则表达式从文本中提取所有匹配项,包含捕获组(编号和命名)及位置。',
  parameters: obj({ text: text('The text to search'), pattern: str('JavaScript regular expression', { minLength: 1, maxLength: 1000 }), flags: flagsSchema, max_matches: int('At most this many matches', { minimum: 1, maximum: 10000, default: 100 }) }, ['text', 'pattern']),
  async execute({ text, pattern, flags = '', max_matches = 100 }) {
    checkRegex(pattern, flags);
    return inSandbox(
      `function main({ text, pattern, flags, max }) {
        const re = new RegExp(pattern, flags.replace('g', '') + 'g');
        const matches = [];
        for (const m of text.matchAll(re)) {
          matches.push({ match: m[0], index: m.index, groups: m.slice(1), named: m.groups || null });
          if (matches.length >= max) break;
        }
        return { count: matches.length, matches };
      }`,
      { text, pattern, flags, max: max_matches },
    );
  },
});

export const regexReplace = tool<{ text: string; pattern: string; replacement: string; flags?: string; all?: boolean }>({
  name: 'regex_replace',
  category,
  description: 'Replace matches of a regular expression in a text; the replacement may use $1, $<name> and $&.',
  description_zh: '用正则表达式替换文本中的匹配内容,替换串可使用 $1、$<name> 和 $&。',
  parameters: obj({ text: text('The text'), pattern: str('JavaScript regular expression', { minLength: 1, maxLength: 1000 }), replacement: str('Replacement text', { maxLength: 100000 }), flags: flagsSchema, all: bool('Replace every match (not only the first)', { default: true }) }, ['text', 'pattern', 'replacement']),
  async execute({ text, pattern, replacement, flags = '', all = true }) {
    checkRegex(pattern, flags);
    return inSandbox(
      `function main({ text, pattern, replacement, flags, all }) {
        const re = new RegExp(pattern, flags.replace('g', '') + (all ? 'g' : ''));
        const count = all ? [...text.matchAll(re)].length : re.test(text) ? 1 : 0;
        re.lastIndex = 0;
        const result = text.replace(re, replacement);
        return { result, replacements: count };
      }`,
      { text, pattern, replacement, flags, all },
    );
  },
});

export const textSplit = tool<{ text: string; mode?: string; separator?: string; chunk_size?: number; overlap?: number }>({
  name: 'text_split',
  category,
  description: 'Split a text by a separator, into lines, sentences (Chinese and Western punctuation) or paragraphs, or into chunks of at most chunk_size characters with overlap.',
  description_zh: '拆分文本:按分隔符、行、句子(支持中英文标点)、段落,或按最大长度分块(可重叠)。',
  parameters: obj({
    text: text('The text'),
    mode: { type: 'string', enum: ['separator', 'lines', 'sentences', 'paragraphs', 'chunks'], default: 'lines' },
    separator: str('For mode=separator', { minLength: 1 }),
    chunk_size: int('For mode=chunks: characters per chunk', { minimum: 1, maximum: 100000, default: 1000 }),
    overlap: int('For mode=chunks: characters shared by neighbouring chunks', { minimum: 0, default: 0 }),
  }, ['text']),
  execute({ text, mode = 'lines', separator, chunk_size = 1000, overlap = 0 }) {
    let parts: string[];
    switch (mode) {
      case 'separator':
        if (!separator) throw toolInputError('arguments.separator: is required when mode is separator');
        parts = text.split(separator);
        break;
      case 'sentences':
        parts = text.match(/[^。！？!?.;；\n]+(?:[。！？!?.;；]+|\n|$)["'”’」』)]*/g)?.map((s) => s.trim()).filter(Boolean) ?? [];
        break;
      case 'paragraphs':
        parts = text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
        break;
      case 'chunks': {
        if (overlap >= chunk_size) throw toolInputError('arguments.overlap: must be smaller than chunk_size');
        const chars = [...text];
        parts = [];
        for (let i = 0; i < chars.length; i += chunk_size - overlap) {
          parts.push(chars.slice(i, i + chunk_size).join(''));
          if (i + chunk_size >= chars.length) break;
        }
        break;
      }
      default:
        parts = text.split(/\r?\n/);
    }
    return { count: parts.length, parts };
  },
});

export const textDiff = tool<{ old_text: string; new_text: string; mode?: string; context?: number }>({
  name: 'text_diff',
  category,
  description: 'Compare two texts: a unified diff plus the added/removed pieces by line, word or character.',
  description_zh: '比较两段文本:输出统一 diff 格式以及按行、词或字符的增删片段。',
  parameters: obj({ old_text: text('The original'), new_text: text('The changed text'), mode: { type: 'string', enum: ['lines', 'words', 'chars'], default: 'lines' }, context: int('Context lines in the patch', { minimum: 0, maximum: 20, default: 3 }) }, ['old_text', 'new_text']),
  execute({ old_text, new_text, mode = 'lines', context = 3 }) {
    const changes: ChangeObject<string>[] = mode === 'chars' ? diffChars(old_text, new_text) : mode === 'words' ? diffWords(old_text, new_text) : diffLines(old_text, new_text);
    const count = (pick: (c: ChangeObject<string>) => boolean) => changes.filter(pick).reduce((n, c) => n + (c.count ?? 1), 0);
    return {
      identical: old_text === new_text,
      added: count((c) => !!c.added),
      removed: count((c) => !!c.removed),
      changes: changes.filter((c) => c.added || c.removed).slice(0, 500).map((c) => ({ type: c.added ? 'added' : 'removed', value: c.value })),
      patch: createTwoFilesPatch('old', 'new', old_text, new_text, undefined, undefined, { context }),
    };
  },
});

export const textCount = tool<{ text: string }>({
  name: 'text_count',
  category,
  description: 'Count characters (with and without spaces), words (each CJK character counts as one), lines, sentences, paragraphs and UTF-8 bytes, with a reading-time estimate.',
  description_zh: '统计文本:字符数(含/不含空白)、词数(中日韩文字每字计一词)、行数、句数、段落数和 UTF-8 字节数,并估算阅读时间。',
  parameters: obj({ text: text('The text') }, ['text']),
  execute({ text }) {
    const cjk = text.match(/[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]/g)?.length ?? 0;
    const latinWords = text.replace(/[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]/g, ' ').match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0;
    const words = cjk + latinWords;
    return {
      characters: [...text].length,
      characters_no_spaces: [...text.replace(/\s/g, '')].length,
      words,
      cjk_characters: cjk,
      lines: text === '' ? 0 : text.split(/\r?\n/).length,
      sentences: text.match(/[^。！？!?.]+[。！？!?.]+/g)?.length ?? (text.trim() ? 1 : 0),
      paragraphs: text.split(/\n\s*\n/).filter((p) => p.trim()).length,
      bytes: new TextEncoder().encode(text).length,
      // ~300 CJK characters or ~200 English words a minute.
      reading_minutes: Math.max(0, Math.round((cjk / 300 + latinWords / 200) * 10) / 10),
    };
  },
});

function lookup(data: unknown, path: string): unknown {
  let cur: unknown = data;
  for (const key of path.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

const FILTERS: Record<string, (v: unknown, arg?: string) => unknown> = {
  upper: (v) => String(v ?? '').toUpperCase(),
  lower: (v) => String(v ?? '').toLowerCase(),
  trim: (v) => String(v ?? '').trim(),
  json: (v) => JSON.stringify(v),
  length: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : 0),
  default: (v, arg) => (v === undefined || v === null || v === '' ? (arg ?? '') : v),
  join: (v, arg) => (Array.isArray(v) ? v.join(arg ?? ', ') : v),
  url: (v) => encodeURIComponent(String(v ?? '')),
};

/** `{{ path | filter:"arg" }}` substitution; `strict` makes a missing variable an error. */
export function renderTemplate(template: string, data: Record<string, unknown>, strict = false): string {
  return template.replace(/\{\{\s*([\w.]+)((?:\s*\|\s*\w+(?::\s*"[^"]*")?)*)\s*\}\}/g, (_m, path: string, filters: string) => {
    let v = lookup(data, path);
    for (const f of filters.matchAll(/\|\s*(\w+)(?::\s*"([^"]*)")?/g)) {
      const fn = FILTERS[f[1]];
      if (!fn) throw toolInputError(`Unknown template filter ${f[1]}`);
      v = fn(v, f[2]);
    }
    if (v === undefined && strict) throw toolInputError(`Template variable ${path} is missing`);
    if (v === undefined || v === null) return '';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

export const templateRender = tool<{ template: string; variables?: Record<string, unknown>; strict?: boolean }>({
  name: 'template_render',
  category,
  description: 'Fill a text template: {{name}}, {{user.email}} and filters such as {{name | upper}}, {{items | join:", "}}, {{x | default:"n/a"}}, {{q | url}}.',
  description_zh: '渲染文本模板:支持 {{name}}、{{user.email}} 以及过滤器,如 {{name | upper}}、{{items | join:", "}}、{{x | default:"无"}}、{{q | url}}。',
  parameters: obj({ template: text('The template'), variables: { type: 'object', description: 'Values for the placeholders', default: {} }, strict: bool('Fail on a missing variable', { default: false }) }, ['template']),
  execute({ template, variables = {}, strict = false }) {
    return { result: renderTemplate(template, variables, strict) };
  },
});

export const markdownToHtml = tool<{ markdown: string; allow_html?: boolean }>({
  name: 'markdown_to_html',
  category,
  description: 'Render Markdown (GitHub flavour: tables, task lists, fenced code) to HTML; raw HTML in the input is escaped unless allow_html is set.',
  description_zh: '将 Markdown(GitHub 风格:表格、任务列表、代码块)渲染为 HTML;默认转义输入中的原始 HTML。',
  parameters: obj({ markdown: text('The Markdown'), allow_html: bool('Keep raw HTML from the input', { default: false }) }, ['markdown']),
  async execute({ markdown, allow_html = false }) {
    // Loaded on first use: marked compiles its whole grammar of regular expressions when its module
    // is evaluated, which would otherwise be paid by every isolate's startup (Cloudflare limits the
    // CPU time of evaluating the global scope) for this one tool. The bundler inlines it, no fetch.
    const { marked } = await import('marked');
    // Escaping raw HTML by default keeps script tags and event handlers out of rendered output.
    const renderer = new marked.Renderer();
    if (!allow_html) renderer.html = ({ text }) => escapeHtml(text);
    const html = marked.parse(markdown, { gfm: true, async: false, renderer }) as string;
    return { html };
  },
});

export const htmlToMarkdownTool = tool<{ html: string }>({
  name: 'html_to_markdown',
  category,
  description: 'Convert HTML to Markdown: headings, emphasis, links, images, lists, code blocks, quotes and tables; scripts and styles are dropped.',
  description_zh: '将 HTML 转换为 Markdown:标题、强调、链接、图片、列表、代码块、引用和表格;丢弃脚本和样式。',
  parameters: obj({ html: text('The HTML') }, ['html']),
  execute({ html }) {
    return { markdown: htmlToMarkdown(html) };
  },
});

export const htmlToTextTool = tool<{ html: string }>({
  name: 'html_to_text',
  category,
  description: 'Extract readable plain text from HTML: block elements on their own lines, entities decoded, scripts and styles dropped.',
  description_zh: '从 HTML 中提取可读纯文本:块级元素分行、解码实体、去除脚本和样式。',
  parameters: obj({ html: text('The HTML') }, ['html']),
  execute({ html }) {
    return { text: htmlToText(html) };
  },
});

function words(s: string): string[] {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

export const textCase = tool<{ text: string; to: string }>({
  name: 'text_case',
  category,
  description: 'Change the case of a text: upper, lower, title, sentence, camelCase, PascalCase, snake_case, kebab-case, CONSTANT_CASE or a URL slug.',
  description_zh: '转换文本大小写/命名风格:大写、小写、标题、句首大写、camelCase、PascalCase、snake_case、kebab-case、CONSTANT_CASE 或 URL slug。',
  parameters: obj({ text: text('The text'), to: { type: 'string', enum: ['upper', 'lower', 'title', 'sentence', 'camel', 'pascal', 'snake', 'kebab', 'constant', 'slug'] } }, ['text', 'to']),
  execute({ text, to }) {
    const w = words(text);
    const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
    const result = {
      upper: () => text.toUpperCase(),
      lower: () => text.toLowerCase(),
      title: () => text.replace(/\p{L}[\p{L}'’]*/gu, cap),
      sentence: () => cap(text.trim()),
      camel: () => w.map((x, i) => (i === 0 ? x.toLowerCase() : cap(x))).join(''),
      pascal: () => w.map(cap).join(''),
      snake: () => w.map((x) => x.toLowerCase()).join('_'),
      kebab: () => w.map((x) => x.toLowerCase()).join('-'),
      constant: () => w.map((x) => x.toUpperCase()).join('_'),
      slug: () => words(text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '')).map((x) => x.toLowerCase()).join('-'),
    }[to as 'upper']();
    return { result };
  },
});

export const textTools = [regexExtract, regexReplace, textSplit, textDiff, textCount, templateRender, markdownToHtml, htmlToMarkdownTool, htmlToTextTool, textCase];
