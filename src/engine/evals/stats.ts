/** Statistics for comparing eval runs: a seeded bootstrap, so the same runs give the same interval. */

/** mulberry32: a small seeded PRNG (deterministic across runs and isolates). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export interface Interval {
  low: number;
  high: number;
  level: number;
  resamples: number;
  seed: number;
}

/**
 * A percentile bootstrap confidence interval of the mean of `xs`: `resamples` resamples with
 * replacement drawn by a PRNG seeded with `seed`. For paired per-row deltas this is the interval
 * of the mean difference between two runs.
 */
export function bootstrapMeanInterval(xs: number[], opts: { resamples?: number; level?: number; seed?: number } = {}): Interval {
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const seed = opts.seed ?? 42;
  if (!xs.length) return { low: 0, high: 0, level, resamples, seed };
  const random = seededRandom(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) sum += xs[Math.floor(random() * xs.length)];
    means[r] = sum / xs.length;
  }
  means.sort();
  const tail = (1 - level) / 2;
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))];
  return { low: at(tail), high: at(1 - tail), level, resamples, seed };
}
