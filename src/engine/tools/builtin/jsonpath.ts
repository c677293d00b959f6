/**
 * JSONPath (RFC 9535 subset): $, .name, ['name'], [n] (negative too), [start:end:step], [*], .*,
 * ..name / ..* (descendants), unions [0,2] / ['a','b'], and filters [?(@.price < 10 && @.tag == 'x')]
 * with comparison, &&, ||, ! and existence tests. Filters are parsed, never evaluated as code.
 */

export class JsonPathError extends Error {}

type Node = { value: unknown; path: string };
type Selector =
  | { kind: 'name'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number; step: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; expr: Expr };
type Segment = { descendant: boolean; selectors: Selector[] };
type Expr =
  | { op: 'or' | 'and'; left: Expr; right: Expr }
  | { op: 'not'; arg: Expr }
  | { op: 'cmp'; cmp: string; left: Operand; right: Operand }
  | { op: 'exists'; path: Operand };
type Operand = { kind: 'literal'; value: unknown } | { kind: 'path'; root: '@' | '$'; segments: Segment[] };

export function parsePath(src: string): Segment[] {
  let i = 0;
  const s = src.trim();
  const fail = (msg: string): never => {
    throw new JsonPathError(`${msg} at position ${i + 1} of ${src}`);
  };
  const ws = () => {
    while (/\s/.test(s[i] ?? '')) i++;
  };
  const parseString = (): string => {
    const q = s[i++];
    let out = '';
    while (i < s.length && s[i] !== q) {
      if (s[i] === '\\') i++;
      out += s[i++];
    }
    if (s[i] !== q) fail('Unterminated string');
    i++;
    return out;
  };
  const parseInt_ = (): number | undefined => {
    const m = /^-?\d+/.exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  const parseSegments = (inFilter: boolean): Segment[] => {
    const segs: Segment[] = [];
    for (;;) {
      ws();
      if (s.startsWith('..', i)) {
        i += 2;
        if (s[i] === '[') segs.push({ descendant: true, selectors: parseBracket() });
        else segs.push({ descendant: true, selectors: [parseDotName()] });
      } else if (s[i] === '.') {
        i++;
        segs.push({ descendant: false, selectors: [parseDotName()] });
      } else if (s[i] === '[') {
        segs.push({ descendant: false, selectors: parseBracket() });
      } else break;
      if (!inFilter && i >= s.length) break;
    }
    return segs;
  };
  const parseDotName = (): Selector => {
    if (s[i] === '*') {
      i++;
      return { kind: 'wildcard' };
    }
    const m = /^[\p{L}_$][\p{L}\p{N}_$-]*/u.exec(s.slice(i));
    if (!m) fail('Expected a name');
    i += m![0].length;
    return { kind: 'name', name: m![0] };
  };
  const parseBracket = (): Selector[] => {
    i++; // [
    const sels: Selector[] = [];
    for (;;) {
      ws();
      if (s[i] === '*') {
        i++;
        sels.push({ kind: 'wildcard' });
      } else if (s[i] === "'" || s[i] === '"') sels.push({ kind: 'name', name: parseString() });
      else if (s[i] === '?') {
        i++;
        ws();
        const paren = s[i] === '(';
        if (paren) i++;
        const expr = parseOr();
        ws();
        if (paren) {
          if (s[i] !== ')') fail('Expected )');
          i++;
        }
        sels.push({ kind: 'filter', expr });
      } else {
        const start = parseInt_();
        ws();
        if (s[i] === ':') {
          i++;
          ws();
          const end = parseInt_();
          ws();
          let step = 1;
          if (s[i] === ':') {
            i++;
            ws();
            step = parseInt_() ?? 1;
          }
          if (step === 0) fail('Slice step cannot be 0');
          sels.push({ kind: 'slice', start, end, step });
        } else if (start !== undefined) sels.push({ kind: 'index', index: start });
        else fail('Unexpected character');
      }
      ws();
      if (s[i] === ',') {
        i++;
        continue;
      }
      if (s[i] !== ']') fail('Expected ]');
      i++;
      return sels;
    }
  };
  const parseOperand = (): Operand => {
    ws();
    const c = s[i];
    if (c === '@' || c === '$') {
      i++;
      return { kind: 'path', root: c, segments: parseSegments(true) };
    }
    if (c === "'" || c === '"') return { kind: 'literal', value: parseString() };
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(s.slice(i));
    if (!m) return fail('Expected a value');
    i += m[0].length;
    return { kind: 'literal', value: JSON.parse(m[0]) };
  };
  const parseAtom = (): Expr => {
    ws();
    if (s[i] === '!') {
      i++;
      return { op: 'not', arg: parseAtom() };
    }
    if (s[i] === '(') {
      i++;
      const e = parseOr();
      ws();
      if (s[i] !== ')') fail('Expected )');
      i++;
      return e;
    }
    const left = parseOperand();
    ws();
    const m = /^(==|!=|<=|>=|<|>|=~)/.exec(s.slice(i));
    if (!m) {
      if (left.kind !== 'path') fail('Expected a comparison');
      return { op: 'exists', path: left };
    }
    i += m[0].length;
    return { op: 'cmp', cmp: m[0], left, right: parseOperand() };
  };
  const parseAnd = (): Expr => {
    let left = parseAtom();
    for (ws(); s.startsWith('&&', i); ws()) {
      i += 2;
      left = { op: 'and', left, right: parseAtom() };
    }
    return left;
  };
  const parseOr = (): Expr => {
    let left = parseAnd();
    for (ws(); s.startsWith('||', i); ws()) {
      i += 2;
      left = { op: 'or', left, right: parseAnd() };
    }
    return left;
  };

  if (s[0] !== '$') throw new JsonPathError(`A JSONPath starts with $: ${src}`);
  i = 1;
  const segs = parseSegments(false);
  if (i < s.length) fail('Unexpected character');
  return segs;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const key = (k: string | number) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `['${k.replace(/'/g, "\\'")}']`);

function children(node: Node): Node[] {
  if (Array.isArray(node.value)) return node.value.map((v, i) => ({ value: v, path: node.path + key(i) }));
  if (isObj(node.value)) return Object.entries(node.value).map(([k, v]) => ({ value: v, path: node.path + key(k) }));
  return [];
}

function descendants(node: Node, out: Node[] = [], depth = 0): Node[] {
  if (depth > 64) return out;
  out.push(node);
  for (const c of children(node)) descendants(c, out, depth + 1);
  return out;
}

function select(node: Node, sel: Selector, root: unknown): Node[] {
  const v = node.value;
  switch (sel.kind) {
    case 'name':
      return isObj(v) && Object.hasOwn(v, sel.name) ? [{ value: v[sel.name], path: node.path + key(sel.name) }] : [];
    case 'index': {
      if (!Array.isArray(v)) return [];
      const idx = sel.index < 0 ? v.length + sel.index : sel.index;
      return idx >= 0 && idx < v.length ? [{ value: v[idx], path: node.path + key(idx) }] : [];
    }
    case 'slice': {
      if (!Array.isArray(v)) return [];
      const n = v.length;
      const norm = (x: number) => (x < 0 ? Math.max(n + x, 0) : Math.min(x, n));
      const out: Node[] = [];
      if (sel.step > 0) {
        for (let k = norm(sel.start ?? 0); k < norm(sel.end ?? n); k += sel.step) out.push({ value: v[k], path: node.path + key(k) });
      } else {
        const start = sel.start === undefined ? n - 1 : sel.start < 0 ? n + sel.start : Math.min(sel.start, n - 1);
        const end = sel.end === undefined ? -1 : sel.end < 0 ? n + sel.end : sel.end;
        for (let k = start; k > end; k += sel.step) out.push({ value: v[k], path: node.path + key(k) });
      }
      return out;
    }
    case 'wildcard':
      return children(node);
    case 'filter':
      return children(node).filter((c) => truthy(evalExpr(sel.expr, c.value, root)));
  }
}

function run(segments: Segment[], start: Node, root: unknown): Node[] {
  let nodes = [start];
  for (const seg of segments) {
    const next: Node[] = [];
    for (const n of nodes) {
      const bases = seg.descendant ? descendants(n) : [n];
      for (const b of bases) for (const sel of seg.selectors) next.push(...select(b, sel, root));
    }
    nodes = next;
    if (nodes.length > 100000) throw new JsonPathError('The query selects too many nodes');
  }
  return nodes;
}

const NOTHING = Symbol('nothing');

function operand(o: Operand, current: unknown, root: unknown): unknown {
  if (o.kind === 'literal') return o.value;
  const nodes = run(o.segments, { value: o.root === '@' ? current : root, path: '$' }, root);
  return nodes.length === 0 ? NOTHING : nodes[0].value;
}

const truthy = (v: unknown) => v === true;

function evalExpr(e: Expr, current: unknown, root: unknown): boolean {
  switch (e.op) {
    case 'or':
      return evalExpr(e.left, current, root) || evalExpr(e.right, current, root);
    case 'and':
      return evalExpr(e.left, current, root) && evalExpr(e.right, current, root);
    case 'not':
      return !evalExpr(e.arg, current, root);
    case 'exists':
      return operand(e.path, current, root) !== NOTHING;
    case 'cmp': {
      const a = operand(e.left, current, root);
      const b = operand(e.right, current, root);
      if (a === NOTHING || b === NOTHING) return e.cmp === '!=' ? a !== b : false;
      switch (e.cmp) {
        case '==':
          return JSON.stringify(a) === JSON.stringify(b);
        case '!=':
          return JSON.stringify(a) !== JSON.stringify(b);
        case '=~':
          return typeof a === 'string' && typeof b === 'string' && a.toLowerCase().includes(b.toLowerCase());
        default: {
          if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) return false;
          return e.cmp === '<' ? a < b : e.cmp === '<=' ? a <= b : e.cmp === '>' ? a > b : a >= b;
        }
      }
    }
  }
}

/** The values and normalized paths a JSONPath selects in `data`. */
export function queryJsonPath(data: unknown, path: string): Node[] {
  return run(parsePath(path), { value: data, path: '$' }, data);
}
