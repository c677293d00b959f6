/**
 * HTML → text and HTML → Markdown without a DOM (Workers have none): a tolerant tokenizer over
 * tags and text, good for pages and rich text an agent reads; scripts, styles and comments dropped.
 */

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', hellip: '…', mdash: '—', ndash: '–', laquo: '«', raquo: '»', ldquo: '“', rdquo: '”', lsquo: '‘', rsquo: '’', middot: '·', times: '×', yen: '¥', euro: '€', pound: '£' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

export const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type Tok = { t: 'text'; v: string } | { t: 'open' | 'close'; name: string; attrs: Record<string, string>; self: boolean };

function tokenize(html: string): Tok[] {
  const cleaned = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|noscript|template|svg|head)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<!doctype[^>]*>/gi, '');
  const out: Tok[] = [];
  const re = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>\/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*(\/?)>/g;
  let last = 0;
  for (let m = re.exec(cleaned); m; m = re.exec(cleaned)) {
    if (m.index > last) out.push({ t: 'text', v: cleaned.slice(last, m.index) });
    const attrs: Record<string, string> = {};
    for (const a of m[3].matchAll(/([^\s=>\/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g)) {
      attrs[a[1].toLowerCase()] = decodeEntities((a[2] ?? '').replace(/^["']|["']$/g, ''));
    }
    out.push({ t: m[1] ? 'close' : 'open', name: m[2].toLowerCase(), attrs, self: !!m[4] });
    last = re.lastIndex;
  }
  if (last < cleaned.length) out.push({ t: 'text', v: cleaned.slice(last) });
  return out;
}

const BLOCK = new Set(['p', 'div', 'section', 'article', 'header', 'footer', 'main', 'aside', 'nav', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'table', 'tr', 'blockquote', 'pre', 'hr', 'form', 'figure', 'figcaption', 'dl', 'dt', 'dd', 'address']);

export function htmlTitle(html: string): string | null {
  const m = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  return m ? decodeEntities(m[1]).replace(/\s+/g, ' ').trim() : null;
}

/** Readable plain text: blocks on their own lines, list items bulleted, table cells tab-separated. */
export function htmlToText(html: string): string {
  let out = '';
  let pre = 0;
  for (const tok of tokenize(html)) {
    if (tok.t === 'text') {
      const text = decodeEntities(tok.v);
      out += pre ? text : text.replace(/\s+/g, ' ');
      continue;
    }
    const { name } = tok;
    if (name === 'pre') pre += tok.t === 'open' ? 1 : -1;
    if (name === 'br') out += '\n';
    else if (name === 'li') out += tok.t === 'open' ? '\n• ' : '';
    else if ((name === 'td' || name === 'th') && tok.t === 'open') out += '\t';
    else if (BLOCK.has(name)) out += '\n';
  }
  return out
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/g, '').replace(/^[ ]+/, '').replace(/^\t/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Markdown for headings, emphasis, links, images, lists, code, quotes, rules and tables. */
export function htmlToMarkdown(html: string): string {
  let out = '';
  const lists: Array<{ ordered: boolean; n: number }> = [];
  const links: string[] = [];
  let pre = false;
  let quote = 0;
  let row: string[] | null = null;
  let cell: string | null = null;
  let rowsSeen = 0;
  const emit = (s: string) => {
    if (cell !== null) cell += s;
    else out += s;
  };
  const newline = (n = 1) => {
    if (cell !== null) return;
    out = out.replace(/[ \t]+$/, '');
    const prefix = quote ? '> '.repeat(quote) : '';
    out += ('\n' + prefix).repeat(n);
  };
  for (const tok of tokenize(html)) {
    if (tok.t === 'text') {
      const text = decodeEntities(tok.v);
      if (pre) emit(text);
      else emit(text.replace(/\s+/g, ' ').replace(/([*_`[\]])/g, '\\$1'));
      continue;
    }
    const open = tok.t === 'open';
    switch (tok.name) {
      case 'h1': case 'h2': case 'h3': case 'h4': case 'h5': case 'h6':
        newline(2);
        if (open) emit('#'.repeat(Number(tok.name[1])) + ' ');
        break;
      case 'p': case 'div': case 'section': case 'article': case 'header': case 'footer': case 'main':
        newline(open ? 2 : 1);
        break;
      case 'br':
        newline();
        break;
      case 'hr':
        newline(2);
        emit('---');
        newline(2);
        break;
      case 'strong': case 'b':
        emit('**');
        break;
      case 'em': case 'i':
        emit('*');
        break;
      case 'del': case 's': case 'strike':
        emit('~~');
        break;
      case 'code':
        if (!pre) emit('`');
        break;
      case 'pre':
        pre = open;
        newline(open ? 2 : 1);
        emit('```');
        if (open) newline();
        else newline();
        break;
      case 'blockquote':
        quote += open ? 1 : -1;
        newline(open ? 2 : 1);
        break;
      case 'a':
        if (open) {
          links.push(tok.attrs.href ?? '');
          emit('[');
        } else {
          const href = links.pop() ?? '';
          emit(href ? `](${href})` : ']');
        }
        break;
      case 'img':
        emit(`![${tok.attrs.alt ?? ''}](${tok.attrs.src ?? ''})`);
        break;
      case 'ul': case 'ol':
        if (open) lists.push({ ordered: tok.name === 'ol', n: 0 });
        else lists.pop();
        newline(lists.length ? 1 : 2);
        break;
      case 'li':
        if (open) {
          const list = lists[lists.length - 1] ?? { ordered: false, n: 0 };
          list.n += 1;
          newline();
          emit('  '.repeat(Math.max(0, lists.length - 1)) + (list.ordered ? `${list.n}. ` : '- '));
        }
        break;
      case 'tr':
        if (open) row = [];
        else if (row) {
          newline();
          out += `| ${row.join(' | ')} |`;
          if (rowsSeen++ === 0) {
            newline();
            out += `| ${row.map(() => '---').join(' | ')} |`;
          }
          row = null;
        }
        break;
      case 'td': case 'th':
        if (open) cell = '';
        else if (cell !== null) {
          row?.push(cell.trim().replace(/\|/g, '\\|'));
          cell = null;
        }
        break;
      case 'table':
        rowsSeen = 0;
        newline(2);
        break;
      default:
        if (BLOCK.has(tok.name)) newline();
    }
  }
  return out
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
