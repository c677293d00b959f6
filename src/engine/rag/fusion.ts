/**
 * Weighted reciprocal-rank fusion (Cormack et al., 2009): each list adds weight / (k + rank) for
 * every item it ranks, so an item ranked well by both lists beats one ranked first by only one,
 * and the lists' incomparable scores (cosine, BM25) never need calibrating against each other.
 *
 * k = 10 rather than the customary 60: the lists here are short (≤ 100) and their top ranks are
 * what matters; with k = 60 rank 1 and rank 10 differ by little and a weaker list's ordering
 * overrides a stronger one's (measured on CMRC 2018, see docs/knowledge.md).
 */

export const RRF_K = 10;

/** How a knowledge base is searched: by embedding, by full text, or both fused (weighted RRF above). */
export const RETRIEVAL_MODES = ['semantic', 'full-text', 'hybrid'] as const;
export type RetrievalMode = (typeof RETRIEVAL_MODES)[number];

export interface Ranked {
  id: string;
}

export interface FusedItem {
  id: string;
  /** The weighted RRF sum divided by its maximum (first in every list), so it lies in (0, 1]. */
  score: number;
  /** 1-based rank in each input list, null where the list did not have the item. */
  ranks: Array<number | null>;
}

export function reciprocalRankFusion(lists: Ranked[][], options: { k?: number; weights?: number[] } = {}): FusedItem[] {
  const k = options.k ?? RRF_K;
  const weights = options.weights ?? lists.map(() => 1);
  const fused = new Map<string, FusedItem & { raw: number }>();
  lists.forEach((list, li) => {
    list.forEach((item, index) => {
      let entry = fused.get(item.id);
      if (!entry) {
        entry = { id: item.id, score: 0, raw: 0, ranks: lists.map(() => null) };
        fused.set(item.id, entry);
      }
      if (entry.ranks[li] !== null) return; // an id listed twice counts once, at its best rank
      entry.ranks[li] = index + 1;
      entry.raw += weights[li] / (k + index + 1);
    });
  });
  const max = weights.reduce((a, w) => a + w, 0) / (k + 1);
  return [...fused.values()]
    .map(({ raw, ...rest }) => ({ ...rest, score: max > 0 ? raw / max : 0 }))
    .sort((a, b) => b.score - a.score);
}
