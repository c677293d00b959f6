/**
 * An arithmetic expression evaluator with a real parser (precedence climbing), never eval:
 * numbers (1e3, .5, 0x1f), + - * / % ^ (right-associative) and ** , unary ±, postfix !,
 * parentheses, constants (pi, e, tau, phi) and functions (sqrt, abs, sin, ..., min, max, round).
 */

type Token = { kind: 'num'; value: number } | { kind: 'id'; value: string } | { kind: 'op'; value: string };

const FUNCTIONS: Record<string, (...xs: number[]) => number> = {
  sqrt: Math.sqrt, cbrt: Math.cbrt, abs: Math.abs, sign: Math.sign,
  sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos, atan: Math.atan, atan2: Math.atan2,
  sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh,
  ln: Math.log, log: Math.log10, log10: Math.log10, log2: Math.log2, exp: Math.exp,
  floor: Math.floor, ceil: Math.ceil, trunc: Math.trunc,
  round: (x, digits = 0) => {
    const f = 10 ** digits;
    return Math.round(x * f) / f;
  },
  min: Math.min, max: Math.max, pow: Math.pow, hypot: Math.hypot,
  mod: (a, b) => ((a % b) + b) % b,
  avg: (...xs) => xs.reduce((s, x) => s + x, 0) / xs.length,
  sum: (...xs) => xs.reduce((s, x) => s + x, 0),
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E, tau: 2 * Math.PI, phi: (1 + Math.sqrt(5)) / 2 };

export class CalcError extends Error {}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(0x[0-9a-f]+|0b[01]+|(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)/i.exec(src.slice(i));
    if (num) {
      const text = num[0].replace(/_/g, '');
      tokens.push({ kind: 'num', value: /^0b/i.test(text) ? parseInt(text.slice(2), 2) : Number(text) });
      i += num[0].length;
      continue;
    }
    const id = /^[a-z_][a-z0-9_]*/i.exec(src.slice(i));
    if (id) {
      tokens.push({ kind: 'id', value: id[0].toLowerCase() });
      i += id[0].length;
      continue;
    }
    if (src.startsWith('**', i)) {
      tokens.push({ kind: 'op', value: '^' });
      i += 2;
      continue;
    }
    const op = c === '×' ? '*' : c === '÷' ? '/' : c;
    if ('+-*/%^()!,'.includes(op)) {
      tokens.push({ kind: 'op', value: op });
      i++;
      continue;
    }
    throw new CalcError(`Unexpected character "${c}" at position ${i + 1}`);
  }
  return tokens;
}

const BINARY: Record<string, { prec: number; right?: boolean; apply: (a: number, b: number) => number }> = {
  '+': { prec: 1, apply: (a, b) => a + b },
  '-': { prec: 1, apply: (a, b) => a - b },
  '*': { prec: 2, apply: (a, b) => a * b },
  '/': { prec: 2, apply: (a, b) => {
    if (b === 0) throw new CalcError('Division by zero');
    return a / b;
  } },
  '%': { prec: 2, apply: (a, b) => a % b },
  '^': { prec: 4, right: true, apply: (a, b) => a ** b },
};

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new CalcError('Factorial needs a non-negative integer');
  if (n > 170) return Infinity;
  let r = 1;
  for (let i = 2; i <= n; i++) r *= i;
  return r;
}

export function evaluate(expression: string): number {
  const tokens = tokenize(expression);
  if (tokens.length === 0) throw new CalcError('Empty expression');
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (v: string) => peek()?.kind === 'op' && peek().value === v;
  const expect = (v: string) => {
    if (!isOp(v)) throw new CalcError(`Expected "${v}"${peek() ? ` but found "${peek().value}"` : ' at the end'}`);
    pos++;
  };

  const parseExpr = (minPrec: number, depth: number): number => {
    if (depth > 200) throw new CalcError('Expression nested too deeply');
    let left = parseUnary(depth);
    for (;;) {
      const t = peek();
      if (!t || t.kind !== 'op' || !BINARY[t.value]) break;
      const op = BINARY[t.value];
      if (op.prec < minPrec) break;
      pos++;
      const right = parseExpr(op.right ? op.prec : op.prec + 1, depth + 1);
      left = op.apply(left, right);
    }
    return left;
  };

  // Unary minus binds looser than ^ (so -2^2 = -4), tighter than * and /.
  const parseUnary = (depth: number): number => {
    if (isOp('-')) {
      pos++;
      return -parseExpr(3, depth + 1);
    }
    if (isOp('+')) {
      pos++;
      return parseExpr(3, depth + 1);
    }
    return parsePostfix(depth);
  };

  const parsePostfix = (depth: number): number => {
    let v = parsePrimary(depth);
    while (isOp('!')) {
      pos++;
      v = factorial(v);
    }
    return v;
  };

  const parsePrimary = (depth: number): number => {
    const t = peek();
    if (!t) throw new CalcError('Unexpected end of expression');
    if (t.kind === 'num') {
      pos++;
      return t.value;
    }
    if (t.kind === 'op' && t.value === '(') {
      pos++;
      const v = parseExpr(0, depth + 1);
      expect(')');
      return v;
    }
    if (t.kind === 'id') {
      pos++;
      if (isOp('(')) {
        const fn = Object.hasOwn(FUNCTIONS, t.value) ? FUNCTIONS[t.value] : undefined;
        if (!fn) throw new CalcError(`Unknown function ${t.value}`);
        pos++;
        const args: number[] = [];
        if (!isOp(')')) {
          args.push(parseExpr(0, depth + 1));
          while (isOp(',')) {
            pos++;
            args.push(parseExpr(0, depth + 1));
          }
        }
        expect(')');
        return fn(...args);
      }
      if (Object.hasOwn(CONSTANTS, t.value)) return CONSTANTS[t.value];
      throw new CalcError(`Unknown name ${t.value}`);
    }
    throw new CalcError(`Unexpected "${t.value}"`);
  };

  const result = parseExpr(0, 0);
  if (pos < tokens.length) throw new CalcError(`Unexpected "${tokens[pos].value}"`);
  return result;
}
