import { dot, HashedNgramEmbedder } from '../rag/embeddings';
import { deepEqual, validateJson, type JsonSchema } from '../tools/json-schema';

/**
 * Eval scorers: each turns one row's outcome into a score in [0, 1] and a pass. Pure but for the
 * LLM judge, which asks its caller for a verdict (the engine imports no module).
 */

export type ScorerSpec =
  | { type: 'exact_match'; name?: string; case_sensitive?: boolean }
  | { type: 'contains'; name?: string; value?: string; case_sensitive?: boolean }
  | { type: 'regex'; name?: string; pattern: string; flags?: string }
  | { type: 'json_schema'; name?: string; schema: JsonSchema }
  | { type: 'numeric'; name?: string; tolerance?: number; relative?: boolean }
  | { type: 'semantic_similarity'; name?: string; threshold?: number }
  | { type: 'tool_call'; name?: string; tool?: string; arguments?: Record<string, unknown> }
  | { type: 'latency'; name?: string; max_ms: number }
  | { type: 'cost'; name?: string; max_cost: number }
  | { type: 'llm_judge'; name?: string; rubric: string; threshold?: number; model?: JudgeModel };

export interface JudgeModel {
  provider?: string;
  model_name?: string;
  model_config_id?: string;
}

/** What a row produced, as the scorers see it. */
export interface RowOutcome {
  input: unknown;
  expected: unknown;
  output: string;
  tool_calls: Array<{ name: string; arguments: unknown }>;
  latency_ms: number;
  cost: number;
}

export interface Score {
  scorer: string;
  score: number;
  passed: boolean;
  detail?: string;
}

/** A judge's verdict: a score in [0, 1] and why. */
export interface Verdict {
  score: number;
  reason: string;
}

/** Asks a model for a verdict on a row under a rubric (the caller picks the model and records the call). */
export type Judge = (request: { rubric: string; model?: JudgeModel; input: unknown; output: string; expected: unknown }) => Promise<Verdict>;

export const scorerName = (s: ScorerSpec) => s.name ?? s.type;

/** The expected answer as text: a string or number as is, else its `output` field, else its JSON. */
export function expectedText(expected: unknown): string | null {
  if (expected === null || expected === undefined) return null;
  if (typeof expected === 'string') return expected;
  if (typeof expected === 'number' || typeof expected === 'boolean') return String(expected);
  const out = (expected as { output?: unknown }).output;
  if (typeof out === 'string' || typeof out === 'number') return String(out);
  return JSON.stringify(expected);
}

const fold = (s: string, caseSensitive?: boolean) => (caseSensitive ? s.trim() : s.trim().toLowerCase());
const NUMBER = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/i;
const firstNumber = (s: string): number | null => {
  const m = NUMBER.exec(s);
  return m ? Number(m[0]) : null;
};

let embedder: HashedNgramEmbedder | undefined;
/** The embedding stand-in of the RAG code (lexical: the local hashed character n-grams). */
export function similarity(a: string, b: string): number {
  embedder ??= new HashedNgramEmbedder();
  return Math.max(0, Math.min(1, dot(embedder.embedOne(a), embedder.embedOne(b))));
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const m = /\{[\s\S]*\}|\[[\s\S]*\]/.exec(text);
    if (!m) return { ok: false };
    try {
      return { ok: true, value: JSON.parse(m[0]) };
    } catch {
      return { ok: false };
    }
  }
}

/** Whether `actual` holds every field of `wanted` (deeply equal values). */
function includesArgs(actual: unknown, wanted: Record<string, unknown>): boolean {
  if (!actual || typeof actual !== 'object') return false;
  return Object.entries(wanted).every(([k, v]) => deepEqual((actual as Record<string, unknown>)[k], v));
}

const bool = (scorer: string, passed: boolean, detail?: string): Score => ({ scorer, score: passed ? 1 : 0, passed, ...(detail ? { detail } : {}) });

/** Scores one row with one scorer. A scorer that cannot apply (no expected answer) fails with a reason. */
export async function score(spec: ScorerSpec, row: RowOutcome, judge: Judge): Promise<Score> {
  const name = scorerName(spec);
  const expected = expectedText(row.expected);
  switch (spec.type) {
    case 'exact_match':
      if (expected === null) return bool(name, false, 'the row has no expected answer');
      return bool(name, fold(row.output, spec.case_sensitive) === fold(expected, spec.case_sensitive));
    case 'contains': {
      const value = spec.value ?? expected;
      if (value === null) return bool(name, false, 'no value and no expected answer');
      return bool(name, fold(row.output, spec.case_sensitive).includes(fold(value, spec.case_sensitive)));
    }
    case 'regex':
      return bool(name, new RegExp(spec.pattern, spec.flags).test(row.output));
    case 'json_schema': {
      const parsed = parseJson(row.output);
      if (!parsed.ok) return bool(name, false, 'the output is not JSON');
      const problems = validateJson(spec.schema, parsed.value, 'output');
      return bool(name, problems.length === 0, problems.join('; ') || undefined);
    }
    case 'numeric': {
      const want = expected === null ? null : firstNumber(expected);
      const got = firstNumber(row.output);
      if (want === null || got === null) return bool(name, false, want === null ? 'no expected number' : 'no number in the output');
      const tolerance = spec.tolerance ?? 0;
      const allowed = spec.relative ? Math.abs(want) * tolerance : tolerance;
      return bool(name, Math.abs(got - want) <= allowed + 1e-12, `expected ${want}, got ${got}`);
    }
    case 'semantic_similarity': {
      if (expected === null) return bool(name, false, 'the row has no expected answer');
      const s = similarity(row.output, expected);
      return { scorer: name, score: s, passed: s >= (spec.threshold ?? 0.8) };
    }
    case 'tool_call': {
      const wanted = (row.expected as { tool_call?: { name?: string; arguments?: Record<string, unknown> } } | null)?.tool_call;
      const tool = spec.tool ?? wanted?.name;
      const args = spec.arguments ?? wanted?.arguments;
      if (!tool) return bool(name, false, 'no expected tool');
      const hit = row.tool_calls.some((c) => c.name === tool && (!args || includesArgs(c.arguments, args)));
      return bool(name, hit, hit ? undefined : `no call of ${tool}${args ? ' with the expected arguments' : ''}`);
    }
    case 'latency':
      return bool(name, row.latency_ms <= spec.max_ms, `${row.latency_ms} ms`);
    case 'cost':
      return bool(name, row.cost <= spec.max_cost, `${row.cost}`);
    case 'llm_judge': {
      const verdict = await judge({ rubric: spec.rubric, model: spec.model, input: row.input, output: row.output, expected: row.expected });
      const s = Math.max(0, Math.min(1, verdict.score));
      return { scorer: name, score: s, passed: s >= (spec.threshold ?? 0.5), detail: verdict.reason };
    }
  }
}

/** Scores a row with every scorer of a run, in order. */
export function scoreAll(specs: ScorerSpec[], row: RowOutcome, judge: Judge): Promise<Score[]> {
  return Promise.all(specs.map((s) => score(s, row, judge)));
}

/** The judge's instructions (system prompt) and its question (user message), for any model. */
export function judgePrompt(req: { rubric: string; input: unknown; output: string; expected: unknown }): { system: string; user: string } {
  return {
    system:
      'You grade an answer against a rubric. Reply with JSON only: {"score": <number from 0 to 1>, "reason": "<one sentence>"}.',
    user: `/judge ${JSON.stringify({ rubric: req.rubric, input: req.input, output: req.output, expected: req.expected ?? null })}`,
  };
}

/** A model's verdict from its reply: the JSON object's `score` (0..1; 1..10 is scaled) and `reason`. */
export function parseVerdict(reply: string): Verdict {
  const parsed = parseJson(reply);
  const v = parsed.ok ? (parsed.value as { score?: unknown; reason?: unknown }) : null;
  let s = typeof v?.score === 'number' ? v.score : Number.NaN;
  if (!Number.isFinite(s)) throw new Error('the judge gave no score');
  if (s > 1) s = s / 10;
  return { score: s, reason: typeof v?.reason === 'string' ? v.reason : '' };
}
