import { validateJson, deepEqual, type JsonSchema } from '../json-schema';
import { bool, int, obj, str, tool, toolInputError } from '../define';
import { JsonPathError, queryJsonPath } from './jsonpath';

const category = 'data';

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw toolInputError(`Not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export const jsonParse = tool<{ text: string; indent?: number }>({
  name: 'json_parse',
  category,
  description: 'Parse JSON text into a value (tolerating a Markdown code fence around it) and pretty-print it; reports where invalid JSON breaks.',
  description_zh: '解析 JSON 文本为数据(可容忍外层的 Markdown 代码块)并格式化输出;无效时报告出错位置。',
  parameters: obj({ text: str('JSON text', { maxLength: 5_000_000 }), indent: int('Indentation of the pretty form', { minimum: 0, maximum: 8, default: 2 }) }, ['text']),
  execute({ text, indent = 2 }) {
    // Models often wrap JSON in ```json fences; accept that.
    const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/i.exec(text);
    const value = parseJsonText(fenced ? fenced[1] : text);
    const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    return { value, type, pretty: JSON.stringify(value, null, indent) };
  },
});

export const jsonValidate = tool<{ data: unknown; schema: JsonSchema }>({
  name: 'json_validate',
  category,
  description: 'Validate data against a JSON Schema (types, required, properties, enum, bounds, lengths, pattern, formats, items, anyOf/oneOf/allOf) and list every violation by path.',
  description_zh: '用 JSON Schema 校验数据(类型、必填、属性、枚举、范围、长度、正则、格式、数组项、anyOf/oneOf/allOf),按路径列出所有错误。',
  parameters: obj({ data: { description: 'The data to check (any JSON value)' }, schema: { type: 'object', description: 'The JSON Schema' } }, ['data', 'schema']),
  execute({ data, schema }) {
    const errors = validateJson(schema, data, '$');
    return { valid: errors.length === 0, errors };
  },
});

export const jsonPath = tool<{ data: unknown; path: string; first?: boolean }>({
  name: 'json_path',
  category,
  description: "Query JSON with JSONPath: $.store.book[*].author, $..price, $.items[0:3], $.users[?(@.age >= 18 && @.city == 'Beijing')].name.",
  description_zh: "用 JSONPath 查询 JSON 数据,如 $.store.book[*].author、$..price、$.items[0:3]、$.users[?(@.age >= 18 && @.city == '北京')].name。",
  parameters: obj({ data: { description: 'The JSON value (or JSON text)' }, path: str('JSONPath expression starting with $', { minLength: 1, maxLength: 1000 }), first: bool('Return only the first match', { default: false }) }, ['data', 'path']),
  execute({ data, path, first = false }) {
    const doc = typeof data === 'string' && /^\s*[[{]/.test(data) ? parseJsonText(data) : data;
    try {
      const nodes = queryJsonPath(doc, path);
      if (first) return { value: nodes[0]?.value ?? null, path: nodes[0]?.path ?? null, found: nodes.length > 0 };
      return { count: nodes.length, values: nodes.map((n) => n.value), paths: nodes.map((n) => n.path) };
    } catch (e) {
      if (e instanceof JsonPathError) throw toolInputError(`Invalid JSONPath: ${e.message}`);
      throw e;
    }
  },
});

/** RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes, CRLF or LF. */
export function parseCsv(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === delimiter) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw toolInputError('CSV has an unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function typed(v: string): unknown {
  if (v === '') return null;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(v) && v.length < 16) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
}

export const csvToJson = tool<{ csv: string; delimiter?: string; header?: boolean; infer_types?: boolean }>({
  name: 'csv_to_json',
  category,
  description: 'Parse CSV (RFC 4180: quotes, embedded commas and newlines) into JSON rows: objects keyed by the header, or arrays.',
  description_zh: '将 CSV(RFC 4180:引号、内嵌逗号和换行)解析为 JSON 行:以表头为键的对象或数组。',
  parameters: obj({
    csv: str('CSV text', { maxLength: 5_000_000 }),
    delimiter: str('Field delimiter (e.g. "," ";" "\\t")', { minLength: 1, maxLength: 1, default: ',' }),
    header: bool('The first row names the columns', { default: true }),
    infer_types: bool('Turn numbers, true/false and empty fields into numbers, booleans and null', { default: true }),
  }, ['csv']),
  execute({ csv, delimiter = ',', header = true, infer_types = true }) {
    const rows = parseCsv(csv, delimiter).filter((r) => !(r.length === 1 && r[0] === ''));
    const conv = (v: string) => (infer_types ? typed(v) : v);
    if (!header) return { count: rows.length, rows: rows.map((r) => r.map(conv)) };
    const [head = [], ...body] = rows;
    const columns = head.map((h, i) => h.trim() || `column_${i + 1}`);
    return {
      count: body.length,
      columns,
      rows: body.map((r) => Object.fromEntries(columns.map((c, i) => [c, conv(r[i] ?? '')]))),
    };
  },
});

function csvField(v: unknown, delimiter: string): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.includes(delimiter) || /["\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const jsonToCsv = tool<{ rows: unknown[]; columns?: string[]; delimiter?: string; header?: boolean }>({
  name: 'json_to_csv',
  category,
  description: 'Turn JSON rows (objects or arrays) into CSV, quoting where needed; columns default to every key seen.',
  description_zh: '将 JSON 行(对象或数组)转换为 CSV,必要时加引号;默认列为出现过的所有键。',
  parameters: obj({
    rows: { type: 'array', items: { type: ['object', 'array'] }, maxItems: 100000, description: 'The rows' },
    columns: { type: 'array', items: { type: 'string' }, description: 'Column order (objects only)' },
    delimiter: str('Field delimiter', { minLength: 1, maxLength: 1, default: ',' }),
    header: bool('Write a header row (objects only)', { default: true }),
  }, ['rows']),
  execute({ rows, columns, delimiter = ',', header = true }) {
    const lines: string[] = [];
    const objects = rows.every((r) => r && typeof r === 'object' && !Array.isArray(r));
    if (objects) {
      const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r as object)))];
      if (header) lines.push(cols.map((c) => csvField(c, delimiter)).join(delimiter));
      for (const r of rows as Record<string, unknown>[]) lines.push(cols.map((c) => csvField(r[c], delimiter)).join(delimiter));
    } else {
      if (!rows.every(Array.isArray)) throw toolInputError('arguments.rows: must be all objects or all arrays');
      for (const r of rows as unknown[][]) lines.push(r.map((v) => csvField(v, delimiter)).join(delimiter));
    }
    return { csv: lines.join('\r\n'), count: rows.length };
  },
});

type Change = { path: string; type: 'added' | 'removed' | 'changed'; old?: unknown; new?: unknown };

function diffValues(a: unknown, b: unknown, path: string, out: Change[]) {
  if (out.length >= 1000 || deepEqual(a, b)) return;
  const bothObjects = a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) {
    out.push({ path, type: 'changed', old: a, new: b });
    return;
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  const fmt = (k: string) => (Array.isArray(a) ? `${path}[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}['${k}']`);
  for (const k of ka) {
    if (!(k in (b as object))) out.push({ path: fmt(k), type: 'removed', old: (a as Record<string, unknown>)[k] });
    else diffValues((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], fmt(k), out);
  }
  for (const k of kb) if (!(k in (a as object))) out.push({ path: fmt(k), type: 'added', new: (b as Record<string, unknown>)[k] });
}

export const jsonDiff = tool<{ old: unknown; new: unknown }>({
  name: 'json_diff',
  category,
  description: 'Structural difference of two JSON values: every added, removed and changed field with its JSONPath.',
  description_zh: '比较两个 JSON 值的结构差异:列出每个新增、删除和修改的字段及其 JSONPath。',
  parameters: obj({ old: { description: 'The original value' }, new: { description: 'The changed value' } }, ['old', 'new']),
  execute(args) {
    const changes: Change[] = [];
    diffValues(args.old, args.new, '$', changes);
    return { equal: changes.length === 0, changes };
  },
});

export const dataTools = [jsonParse, jsonValidate, jsonPath, csvToJson, jsonToCsv, jsonDiff];
