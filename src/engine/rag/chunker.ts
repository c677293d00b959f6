/**
 * Chunkers: split a document's text into pieces of at most `chunk_size` characters (code points),
 * consecutive pieces sharing about `chunk_overlap` characters of context.
 *
 * - `fixed`: a window of chunk_size sliding by chunk_size − overlap;
 * - `sentence`: whole sentences packed up to the size (Chinese 。！？；… and Western .!?; ends);
 * - `paragraph`: whole paragraphs (blank-line separated) packed up to the size, long ones by sentence;
 * - `markdown`: sections under headings (code fences respected), each chunk led by its heading path.
 */

export const CHUNK_STRATEGIES = ['fixed', 'paragraph', 'markdown', 'sentence'] as const;
export type ChunkStrategy = (typeof CHUNK_STRATEGIES)[number];

export interface ChunkOptions {
  strategy: ChunkStrategy;
  chunk_size: number;
  chunk_overlap: number;
}

export interface Chunk {
  content: string;
  /** 0-based order within the document. */
  position: number;
  /** Markdown strategy: the heading path, e.g. `Guide > Install`. */
  heading?: string;
}

const len = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export function chunkText(text: string, options: ChunkOptions): Chunk[] {
  const size = Math.max(1, Math.floor(options.chunk_size));
  const overlap = Math.max(0, Math.min(Math.floor(options.chunk_overlap), size - 1));
  const normalized = text.replace(/\r\n?/g, '\n').replace(/\u0000/g, '');
  let pieces: Array<{ content: string; heading?: string }>;
  switch (options.strategy) {
    case 'fixed':
      pieces = fixedWindows(normalized.trim(), size, overlap).map((content) => ({ content }));
      break;
    case 'sentence':
      pieces = pack(splitSentences(normalized), size, overlap, joinSentences).map((content) => ({ content }));
      break;
    case 'paragraph':
      pieces = pack(paragraphUnits(normalized, size), size, overlap, joinParagraphs).map((content) => ({ content }));
      break;
    case 'markdown':
      pieces = markdownChunks(normalized, size, overlap);
      break;
  }
  return pieces
    .map((p) => ({ ...p, content: p.content.trim() }))
    .filter((p) => p.content.length > 0)
    .map((p, position) => ({ ...p, position }));
}

/** Windows of `size` code points, each starting `size - overlap` after the previous one. */
export function fixedWindows(text: string, size: number, overlap: number): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const step = Math.max(1, size - overlap);
  const out: string[] = [];
  for (let start = 0; start < chars.length; start += step) {
    out.push(chars.slice(start, start + size).join(''));
    if (start + size >= chars.length) break;
  }
  return out;
}

// A sentence ends at Chinese/Western terminal punctuation (with any closing quotes or brackets
// after it), at a Western period followed by whitespace, or at a line break. A period inside a
// token (3.14, e.g.x) does not end a sentence.
const SENTENCE = /(?:[^。！？!?；;…\n.]|\.(?!\s|$))*(?:[。！？!?；;]+|…+|\.+(?=\s|$)|\n+|$)[”’」』）)\]"']*/gu;

export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(SENTENCE)) {
    const s = match[0].replace(/\n+$/, ' ').trim();
    if (s) out.push(s);
  }
  return out;
}

// A paragraph longer than a chunk is split into sentences packed on their own.
function paragraphUnits(text: string, size: number): string[] {
  return splitParagraphs(text).flatMap((p) => (len(p) > size ? pack(splitSentences(p), size, 0, joinSentences) : [p]));
}

export function splitParagraphs(text: string): string[] {
  return text
    .split(/\n[ \t]*\n+/)
    .map((p) => p.trim())
    .filter(Boolean);
}

type Joiner = (parts: string[]) => string;

/** Joins sentences: no space between Chinese ones, one space between Western ones. */
export const joinSentences: Joiner = (parts) =>
  parts.reduce((acc, s) => (acc === '' ? s : /[\p{Script=Han}。！？；，、：”’」』）…]$/u.test(acc) || /^[\p{Script=Han}]/u.test(s) ? acc + s : `${acc} ${s}`), '');
const joinParagraphs: Joiner = (parts) => parts.join('\n\n');

/**
 * Packs units greedily into chunks of at most `size`; a unit longer than `size` is cut into
 * fixed windows. The next chunk starts with the previous chunk's trailing units that fit in
 * `overlap`, so context carries across the boundary without cutting a sentence.
 */
function pack(units: string[], size: number, overlap: number, join: Joiner): string[] {
  const out: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length === 0) return;
    out.push(join(current));
    let tail = 0;
    while (tail < current.length - 1 && len(join(current.slice(current.length - tail - 1))) <= overlap) tail++;
    current = tail ? current.slice(current.length - tail) : [];
  };
  for (const unit of units) {
    if (!unit.trim()) continue;
    if (len(unit) > size) {
      flush();
      current = [];
      out.push(...fixedWindows(unit, size, overlap));
      continue;
    }
    if (len(join([...current, unit])) > size) {
      flush();
      // The carried overlap may itself leave no room for this unit.
      while (current.length && len(join([...current, unit])) > size) current.shift();
    }
    current.push(unit);
  }
  if (current.length) out.push(join(current));
  return dedupeTail(out);
}

// A trailing chunk made only of carried overlap adds nothing.
function dedupeTail(chunks: string[]): string[] {
  if (chunks.length >= 2 && chunks[chunks.length - 2].endsWith(chunks[chunks.length - 1])) chunks.pop();
  return chunks;
}

/** Sections under Markdown headings (ATX `#`), ignoring `#` lines inside fenced code. */
export function markdownSections(text: string): Array<{ path: string[]; body: string }> {
  const sections: Array<{ path: string[]; body: string }> = [];
  const path: string[] = [];
  let body: string[] = [];
  let fence: string | null = null;
  const push = () => {
    const b = body.join('\n').trim();
    if (b) sections.push({ path: [...path], body: b });
    body = [];
  };
  for (const line of text.split('\n')) {
    const fenceMatch = line.match(/^\s{0,3}(`{3,}|~{3,})/);
    if (fenceMatch) {
      if (fence === null) fence = fenceMatch[1][0];
      else if (fenceMatch[1][0] === fence) fence = null;
      body.push(line);
      continue;
    }
    const heading = fence === null ? line.match(/^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$/) : null;
    if (heading) {
      push();
      const level = heading[1].length;
      path.length = Math.min(path.length, level - 1);
      while (path.length < level - 1) path.push('');
      path.push(heading[2].trim());
      continue;
    }
    body.push(line);
  }
  push();
  return sections;
}

function markdownChunks(text: string, size: number, overlap: number): Array<{ content: string; heading?: string }> {
  const out: Array<{ content: string; heading?: string }> = [];
  for (const section of markdownSections(text)) {
    const heading = section.path.filter(Boolean).join(' > ') || undefined;
    // The heading path leads each chunk so a chunk still says what it is about on its own.
    const prefix = heading ? `${heading}\n` : '';
    const room = Math.max(Math.floor(size / 2), size - len(prefix));
    for (const piece of pack(paragraphUnits(section.body, room), room, Math.min(overlap, room - 1), joinParagraphs)) {
      out.push({ content: prefix + piece, heading });
    }
  }
  return out;
}
