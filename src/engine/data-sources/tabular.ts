import type { QueryLimits, QueryResult } from './types';
import { queryError, tabulate } from './util';

/** Filters over records (CSV rows, JSON objects, HTTP API answers). */
export interface Filter {
  field: string;
  op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'contains' | 'in';
  value: unknown;
}
export interface TabularQuery {
  filters?: Filter[];
  columns?: string[];
  sort?: { field: string; direction?: 'asc' | 'desc' };
}

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF, a header row naming the columns. */
export function parseCsv(text: string, delimiter = ','): { columns: string[]; rows: Record<string, string>[] } {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === delimiter) {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
    } else field += c;
  }
  if (quoted) throw queryError('CSV: a quoted field is not closed');
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  const [header = [], ...body] = records;
  const columns = header.map((h, i) => h.trim() || `column_${i + 1}`);
  return { columns, rows: body.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? '']))) };
}

/** The records of a JSON document: the array at `path` (dot-separated), or the document if it is an array. */
export function jsonRecords(doc: unknown, path?: string): Record<string, unknown>[] {
  let node = doc;
  for (const part of (path ?? '').split('.').filter(Boolean)) {
    node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
  }
  if (Array.isArray(node)) return node.map((item) => (item && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : { value: item }));
  if (node && typeof node === 'object') return [node as Record<string, unknown>];
  throw queryError(`JSON: ${path ? `"${path}"` : 'the document'} is not an array or object`);
}

// CSV cells are strings: "10" compares with 9 as a number when both sides are numeric.
function compare(a: unknown, b: unknown): number {
  const x = typeof a === 'string' && a.trim() !== '' && !Number.isNaN(Number(a)) ? Number(a) : a;
  const y = typeof b === 'string' && b.trim() !== '' && !Number.isNaN(Number(b)) ? Number(b) : b;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  return String(x ?? '').localeCompare(String(y ?? ''));
}

function matches(record: Record<string, unknown>, f: Filter): boolean {
  const v = record[f.field];
  switch (f.op) {
    case 'eq':
      return v !== undefined && compare(v, f.value) === 0;
    case 'ne':
      return v === undefined || compare(v, f.value) !== 0;
    case 'gt':
      return v !== undefined && v !== null && compare(v, f.value) > 0;
    case 'gte':
      return v !== undefined && v !== null && compare(v, f.value) >= 0;
    case 'lt':
      return v !== undefined && v !== null && compare(v, f.value) < 0;
    case 'lte':
      return v !== undefined && v !== null && compare(v, f.value) <= 0;
    case 'contains':
      return String(v ?? '').toLowerCase().includes(String(f.value ?? '').toLowerCase());
    case 'in':
      return Array.isArray(f.value) && f.value.some((x) => v !== undefined && compare(v, x) === 0);
  }
}

/** Filters (all must match), sorts and projects records, then applies the row limit. */
export function queryRecords(records: Record<string, unknown>[], query: TabularQuery, limits: QueryLimits, columns?: string[]): QueryResult {
  let out = records.filter((r) => (query.filters ?? []).every((f) => matches(r, f)));
  if (query.sort) {
    const { field, direction } = query.sort;
    const sign = direction === 'desc' ? -1 : 1;
    out = [...out].sort((a, b) => sign * compare(a[field], b[field]));
  }
  let cols = columns;
  if (query.columns?.length) {
    cols = query.columns;
    out = out.map((r) => Object.fromEntries(query.columns!.map((c) => [c, r[c] ?? null])));
  }
  return tabulate(out, limits.maxRows, cols);
}
