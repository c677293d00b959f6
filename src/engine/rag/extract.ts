/**
 * File types and text extraction for knowledge-base documents and uploads. The type is decided
 * from the bytes: a PDF is a PDF by its `%PDF-` signature whatever it is called, a known binary
 * format is refused whatever it claims to be, and anything else must be valid UTF-8 text, whose
 * kind (markdown, HTML, CSV, JSON, plain) the name and a look at the content decide.
 */
import { env } from 'cloudflare:workers';
import type { Env } from '../../env';

export const SUPPORTED_TYPES = ['text/plain', 'text/markdown', 'text/html', 'text/csv', 'application/json', 'application/pdf'] as const;
export type SupportedType = (typeof SUPPORTED_TYPES)[number];

export class UnsupportedFileError extends Error {
  override name = 'UnsupportedFileError';
}

export class ExtractionError extends Error {
  override name = 'ExtractionError';
}

const startsWith = (bytes: Uint8Array, sig: number[], offset = 0) => sig.every((b, i) => bytes[offset + i] === b);

// Signatures of common binary formats that are not supported, to name them in the refusal.
const BINARY_SIGNATURES: Array<[string, number[], number?]> = [
  ['PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['JPEG image', [0xff, 0xd8, 0xff]],
  ['GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['ZIP archive (or DOCX/XLSX)', [0x50, 0x4b, 0x03, 0x04]],
  ['gzip archive', [0x1f, 0x8b]],
  ['ELF executable', [0x7f, 0x45, 0x4c, 0x46]],
  ['Windows executable', [0x4d, 0x5a]],
  ['WebAssembly module', [0x00, 0x61, 0x73, 0x6d]],
  ['OLE document (DOC/XLS)', [0xd0, 0xcf, 0x11, 0xe0]],
  ['RAR archive', [0x52, 0x61, 0x72, 0x21]],
  ['7z archive', [0x37, 0x7a, 0xbc, 0xaf]],
  ['WebP/RIFF media', [0x52, 0x49, 0x46, 0x46]],
];

const EXTENSIONS: Record<string, SupportedType> = {
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  csv: 'text/csv',
  json: 'application/json',
  pdf: 'application/pdf',
};

const extensionOf = (name: string) => name.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1] ?? '';

/**
 * The type of an uploaded file from its bytes (first), name and declared type. Throws
 * UnsupportedFileError for binary content that is not a PDF and for text that is not UTF-8.
 */
export function detectFileType(bytes: Uint8Array, filename: string, declared?: string | null): SupportedType {
  // %PDF- may follow a little junk (allowed by readers within the first 1024 bytes).
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  if (head.includes('%PDF-')) return 'application/pdf';
  for (const [what, sig, offset] of BINARY_SIGNATURES) {
    if (startsWith(bytes, sig, offset)) throw new UnsupportedFileError(`Unsupported file type: ${what}`);
  }
  const text = decodeUtf8(bytes);
  const ext = extensionOf(filename);
  const byName = EXTENSIONS[ext];
  const declaredType = (declared ?? '').split(';')[0].trim().toLowerCase();
  const trimmed = text.trimStart().slice(0, 512).toLowerCase();
  if (byName === 'application/json' || declaredType === 'application/json' || /^[[{]/.test(trimmed)) {
    if (isJson(text)) return 'application/json';
  }
  if (byName === 'text/html' || /^(<!doctype html|<html[\s>])/.test(trimmed)) return 'text/html';
  if (byName === 'text/csv' || declaredType === 'text/csv') return 'text/csv';
  if (byName === 'text/markdown' || declaredType === 'text/markdown') return 'text/markdown';
  return 'text/plain';
}

export function decodeUtf8(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new UnsupportedFileError('Unsupported file: not a PDF and not UTF-8 text');
  }
  // NUL bytes do not occur in text files; they mark an unknown binary format.
  if (text.includes('\u0000')) throw new UnsupportedFileError('Unsupported file: binary content');
  return text;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export interface ExtractedText {
  text: string;
  /** PDFs: the number of pages. */
  pages?: number;
}

export const isSupportedType = (type: string): type is SupportedType => (SUPPORTED_TYPES as readonly string[]).includes(type);

/**
 * The plain text of a file of a supported type, ready to chunk (another type: UnsupportedFileError).
 * `maxPages` reads only the first pages of a PDF.
 */
export async function extractText(bytes: Uint8Array, type: string, options: { maxPages?: number } = {}): Promise<ExtractedText> {
  if (!isSupportedType(type)) throw new UnsupportedFileError(`Cannot extract text from ${type || 'an unknown type'}; supported: ${SUPPORTED_TYPES.join(', ')}`);
  switch (type) {
    case 'application/pdf':
      return extractPdf(bytes, options.maxPages);
    case 'text/html':
      return { text: htmlToText(decodeUtf8(bytes)) };
    case 'text/csv':
      return { text: csvToText(decodeUtf8(bytes)) };
    case 'application/json':
      return { text: jsonToText(decodeUtf8(bytes)) };
    default:
      return { text: decodeUtf8(bytes).replace(/^\uFEFF/, '') };
  }
}

/** Text of a document added as JSON content (`text`, `markdown` or `html`). */
export function contentToText(content: string, contentType: 'text' | 'markdown' | 'html'): string {
  return contentType === 'html' ? htmlToText(content) : content;
}

/**
 * PDFs are read by pdf.js in the runtime worker (workers/runtime, the RUNTIME service binding):
 * the parser is most of a megabyte gzipped and is needed only for PDF uploads, so the API
 * worker does not carry it.
 */
async function extractPdf(bytes: Uint8Array, maxPages?: number): Promise<ExtractedText> {
  const runtime = (env as unknown as Env).RUNTIME;
  if (!runtime) throw new ExtractionError('PDF extraction is unavailable: the tiangong-runtime worker is not bound to this worker');
  const outcome = await runtime.extractPdf(bytes, maxPages === undefined ? {} : { max_pages: maxPages });
  if ('refused' in outcome) throw new ExtractionError(outcome.refused.message);
  return outcome.value;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', mdash: '—', ndash: '–', hellip: '…', copy: '©', reg: '®' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Visible text of an HTML document: scripts, styles and tags gone, blocks on their own lines. */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(script|style|noscript|template|svg|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<(h[1-6])\b[^>]*>/gi, '\n\n')
      .replace(/<\/(h[1-6]|p|div|section|article|li|tr|blockquote|pre|table|ul|ol|header|footer|main)\s*>/gi, '\n\n')
      .replace(/<(br|hr)\b[^>]*>/gi, '\n')
      .replace(/<\/(td|th)\s*>/gi, '\t')
      .replace(/<[^>]+>/g, ''),
  )
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** RFC 4180 CSV rows (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && s[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

/** One line per record, `header: value; ...`, so each row reads (and retrieves) on its own. */
export function csvToText(text: string): string {
  const [header, ...rows] = parseCsv(text);
  if (!header) return '';
  if (rows.length === 0) return header.join(', ');
  return rows.map((r) => r.map((v, i) => `${header[i]?.trim() || `column ${i + 1}`}: ${v.trim()}`).join('; ')).join('\n\n');
}

/** `path.to.key: value` lines for every leaf of a JSON document. */
export function jsonToText(text: string): string {
  const lines: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    } else lines.push(path ? `${path}: ${String(value)}` : String(value));
  };
  walk(JSON.parse(text.replace(/^\uFEFF/, '')), '');
  return lines.join('\n');
}
