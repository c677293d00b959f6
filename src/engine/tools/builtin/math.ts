import { bool, int, num, obj, str, tool, toolInputError } from '../define';
import { CalcError, evaluate } from './calc';

const category = 'math';

export const calculator = tool<{ expression: string; precision?: number }>({
  name: 'calculator',
  category,
  description: 'Evaluate an arithmetic expression: + - * / % ^, parentheses, factorial, functions (sqrt, sin, log, round, min, max, ...) and constants (pi, e).',
  description_zh: '计算数学表达式:支持 + - * / % ^、括号、阶乘、函数(sqrt、sin、log、round、min、max 等)和常量(pi、e)。',
  parameters: obj(
    {
      expression: str('The expression, e.g. "2 * (3 + 4)^2 / sqrt(16)"', { minLength: 1, maxLength: 2000 }),
      precision: int('Significant digits to round the result to (1-17)', { minimum: 1, maximum: 17 }),
    },
    ['expression'],
  ),
  execute({ expression, precision }) {
    let result: number;
    try {
      result = evaluate(expression);
    } catch (e) {
      if (e instanceof CalcError) throw toolInputError(`Cannot evaluate "${expression}": ${e.message}`);
      throw e;
    }
    if (Number.isNaN(result)) throw toolInputError(`"${expression}" is not a number (NaN)`);
    const rounded = precision ? Number(result.toPrecision(precision)) : Number(result.toPrecision(15));
    return { expression, result: Number.isFinite(result) ? rounded : String(result) };
  },
});

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const statistics = tool<{ numbers: number[]; percentiles?: number[] }>({
  name: 'statistics',
  category,
  description: 'Descriptive statistics of a list of numbers: count, sum, mean, median, mode, min, max, range, variance, standard deviation, quartiles and percentiles.',
  description_zh: '对一组数字做描述性统计:数量、总和、平均数、中位数、众数、最小/最大值、极差、方差、标准差、四分位数和百分位数。',
  parameters: obj(
    {
      numbers: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 100000, description: 'The data' },
      percentiles: { type: 'array', items: { type: 'number', minimum: 0, maximum: 100 }, description: 'Extra percentiles to compute, e.g. [90, 99]' },
    },
    ['numbers'],
  ),
  execute({ numbers, percentiles = [] }) {
    const n = numbers.length;
    const sorted = [...numbers].sort((a, b) => a - b);
    const sum = numbers.reduce((s, x) => s + x, 0);
    const mean = sum / n;
    const sq = numbers.reduce((s, x) => s + (x - mean) ** 2, 0);
    const counts = new Map<number, number>();
    for (const x of numbers) counts.set(x, (counts.get(x) ?? 0) + 1);
    const top = Math.max(...counts.values());
    const mode = top > 1 ? [...counts].filter(([, c]) => c === top).map(([x]) => x).sort((a, b) => a - b) : [];
    const round = (x: number) => Number(x.toPrecision(12));
    return {
      count: n,
      sum: round(sum),
      mean: round(mean),
      median: quantile(sorted, 0.5),
      mode,
      min: sorted[0],
      max: sorted[n - 1],
      range: round(sorted[n - 1] - sorted[0]),
      variance: round(sq / n),
      sample_variance: n > 1 ? round(sq / (n - 1)) : null,
      std_dev: round(Math.sqrt(sq / n)),
      sample_std_dev: n > 1 ? round(Math.sqrt(sq / (n - 1))) : null,
      q1: round(quantile(sorted, 0.25)),
      q3: round(quantile(sorted, 0.75)),
      percentiles: Object.fromEntries(percentiles.map((p) => [`p${p}`, round(quantile(sorted, p / 100))])),
    };
  },
});

// Factors to a base unit per dimension; temperature is affine and handled separately.
const UNITS: Record<string, Record<string, number>> = {
  length: { m: 1, km: 1000, cm: 0.01, mm: 0.001, um: 1e-6, nm: 1e-9, mi: 1609.344, yd: 0.9144, ft: 0.3048, in: 0.0254, nmi: 1852, li: 500, zhang: 10 / 3, chi: 1 / 3, cun: 1 / 30 },
  mass: { kg: 1, g: 0.001, mg: 1e-6, t: 1000, lb: 0.45359237, oz: 0.028349523125, jin: 0.5, liang: 0.05, st: 6.35029318 },
  time: { s: 1, ms: 0.001, us: 1e-6, min: 60, h: 3600, d: 86400, wk: 604800, mo: 2629746, yr: 31556952 },
  data: { b: 1, kb: 1000, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, bit: 1 / 8 },
  area: { m2: 1, km2: 1e6, cm2: 1e-4, ha: 1e4, acre: 4046.8564224, ft2: 0.09290304, mi2: 2589988.110336, mu: 10000 / 15 },
  volume: { l: 1, ml: 0.001, m3: 1000, gal: 3.785411784, qt: 0.946352946, pt: 0.473176473, cup: 0.2365882365, floz: 0.0295735295625 },
  speed: { 'm/s': 1, 'km/h': 1 / 3.6, mph: 0.44704, kn: 1852 / 3600, 'ft/s': 0.3048 },
  energy: { j: 1, kj: 1000, cal: 4.184, kcal: 4184, wh: 3600, kwh: 3.6e6 },
  pressure: { pa: 1, kpa: 1000, bar: 1e5, atm: 101325, psi: 6894.757293168, mmhg: 133.322387415 },
};
const ALIASES: Record<string, string> = {
  meter: 'm', meters: 'm', metre: 'm', kilometer: 'km', kilometers: 'km', centimeter: 'cm', millimeter: 'mm', mile: 'mi', miles: 'mi', yard: 'yd', foot: 'ft', feet: 'ft', inch: 'in', inches: 'in',
  kilogram: 'kg', kilograms: 'kg', gram: 'g', grams: 'g', tonne: 't', pound: 'lb', pounds: 'lb', lbs: 'lb', ounce: 'oz', ounces: 'oz',
  second: 's', seconds: 's', sec: 's', minute: 'min', minutes: 'min', hour: 'h', hours: 'h', hr: 'h', day: 'd', days: 'd', week: 'wk', weeks: 'wk', month: 'mo', months: 'mo', year: 'yr', years: 'yr',
  byte: 'b', bytes: 'b', liter: 'l', liters: 'l', litre: 'l', gallon: 'gal', gallons: 'gal', kph: 'km/h', 'm²': 'm2', 'km²': 'km2', 'm³': 'm3',
  celsius: 'c', '°c': 'c', fahrenheit: 'f', '°f': 'f', kelvin: 'k', 公里: 'km', 米: 'm', 厘米: 'cm', 公斤: 'kg', 千克: 'kg', 克: 'g', 斤: 'jin', 两: 'liang', 亩: 'mu',
};

function unit(raw: string): string {
  const u = raw.trim().toLowerCase();
  return ALIASES[u] ?? u;
}

const TEMPS = new Set(['c', 'f', 'k']);
const toKelvin = (v: number, u: string) => (u === 'c' ? v + 273.15 : u === 'f' ? (v - 32) * (5 / 9) + 273.15 : v);
const fromKelvin = (v: number, u: string) => (u === 'c' ? v - 273.15 : u === 'f' ? (v - 273.15) * (9 / 5) + 32 : v);

export const unitConvert = tool<{ value: number; from: string; to: string }>({
  name: 'unit_convert',
  category,
  description: 'Convert a value between units of length, mass, time, data size, area, volume, speed, energy, pressure and temperature (metric, imperial and Chinese units).',
  description_zh: '单位换算:长度、质量、时间、数据大小、面积、体积、速度、能量、压强和温度(公制、英制和市制单位)。',
  parameters: obj({ value: num('The value to convert'), from: str('Source unit, e.g. km, lb, °F, GiB, 斤'), to: str('Target unit') }, ['value', 'from', 'to']),
  execute({ value, from, to }) {
    const f = unit(from);
    const t = unit(to);
    if (TEMPS.has(f) || TEMPS.has(t)) {
      if (!TEMPS.has(f) || !TEMPS.has(t)) throw toolInputError(`Cannot convert ${from} to ${to}`);
      return { value, from, to, result: Number(fromKelvin(toKelvin(value, f), t).toPrecision(12)), dimension: 'temperature' };
    }
    const dim = Object.keys(UNITS).find((d) => f in UNITS[d] && t in UNITS[d]);
    if (!dim) {
      const isKnown = (u: string) => Object.values(UNITS).some((units) => u in units);
      if (!isKnown(f)) throw toolInputError(`Unknown unit ${from}`);
      if (!isKnown(t)) throw toolInputError(`Unknown unit ${to}`);
      throw toolInputError(`Cannot convert ${from} to ${to}: different dimensions`);
    }
    return { value, from, to, result: Number(((value * UNITS[dim][f]) / UNITS[dim][t]).toPrecision(12)), dimension: dim };
  },
});

export const randomNumber = tool<{ min?: number; max?: number; integer?: boolean; count?: number; unique?: boolean }>({
  name: 'random_number',
  category,
  description: 'Cryptographically random numbers in a range, integers or decimals, optionally without repeats.',
  description_zh: '生成指定范围内的密码学安全随机数(整数或小数),可选不重复。',
  parameters: obj({
    min: num('Lowest value (inclusive)', { default: 0 }),
    max: num('Highest value (inclusive for integers)', { default: 100 }),
    integer: bool('Integers only', { default: true }),
    count: int('How many numbers', { minimum: 1, maximum: 1000, default: 1 }),
    unique: bool('No repeats (integers only)', { default: false }),
  }),
  execute({ min = 0, max = 100, integer = true, count = 1, unique = false }) {
    if (max < min) throw toolInputError('max must be >= min');
    const lo = integer ? Math.ceil(min) : min;
    const hi = integer ? Math.floor(max) : max;
    if (integer && hi < lo) throw toolInputError('No integer lies between min and max');
    if (unique && integer && hi - lo + 1 < count) throw toolInputError(`Only ${hi - lo + 1} distinct integers lie between min and max`);
    const rand = () => crypto.getRandomValues(new Uint32Array(2)).reduce((acc, x, i) => acc + x * 2 ** (-32 * (i + 1)), 0);
    const out: number[] = [];
    const seen = new Set<number>();
    while (out.length < count) {
      const x = integer ? lo + Math.floor(rand() * (hi - lo + 1)) : lo + rand() * (hi - lo);
      if (unique && integer) {
        if (seen.has(x)) continue;
        seen.add(x);
      }
      out.push(x);
    }
    return { numbers: out };
  },
});

export const numberFormat = tool<{ value: number; locale?: string; style?: string; currency?: string; maximum_fraction_digits?: number; notation?: string }>({
  name: 'number_format',
  category,
  description: 'Format a number for people: thousands separators, percentages, currencies and compact notation in any locale (e.g. 1234567.8 → "1,234,567.8", "¥1,234,567.80", "123万").',
  description_zh: '按地区格式化数字:千位分隔、百分比、货币和紧凑表示(如 1234567.8 → "1,234,567.8"、"¥1,234,567.80"、"123万")。',
  parameters: obj(
    {
      value: num('The number'),
      locale: str('BCP 47 locale, e.g. en-US, zh-CN, de-DE', { default: 'en-US' }),
      style: { type: 'string', enum: ['decimal', 'percent', 'currency'], default: 'decimal' },
      currency: str('ISO 4217 code for style=currency, e.g. USD, CNY', { pattern: '^[A-Za-z]{3}$' }),
      notation: { type: 'string', enum: ['standard', 'compact', 'scientific', 'engineering'], default: 'standard' },
      maximum_fraction_digits: int('At most this many decimals', { minimum: 0, maximum: 20 }),
    },
    ['value'],
  ),
  execute({ value, locale = 'en-US', style = 'decimal', currency, maximum_fraction_digits, notation = 'standard' }) {
    if (style === 'currency' && !currency) throw toolInputError('arguments.currency: is required when style is currency');
    try {
      const fmt = new Intl.NumberFormat(locale, {
        style: style as 'decimal',
        currency,
        notation: notation as 'standard',
        maximumFractionDigits: maximum_fraction_digits,
      });
      return { formatted: fmt.format(value), locale: fmt.resolvedOptions().locale };
    } catch (e) {
      throw toolInputError(`Cannot format: ${e instanceof Error ? e.message : String(e)}`);
    }
  },
});

export const mathTools = [calculator, statistics, unitConvert, randomNumber, numberFormat];
