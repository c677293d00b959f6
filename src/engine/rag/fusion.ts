/**
 * Reciprocal-rank fusion (Cormack et al., 2009): each list contributes 1 / (k + rank) for every
 * item it ranks, so an item ranked well by both lists beats one ranked first by only one, and the
 * lists' incomparable scores (cosine, BM25) never need calibrating against each other.
 */

export const RRF_K = 60;

export interface Ranked {
  id: string;
}

export interface FusedItem {
  id: string;
  /** The RRF sum divided by its maximum (first in every list), so it lies in (0, 1]. */
  score: number;
  /** 1-based rank in each input list, null where the list did not have the item. */
  ranks: Array<number | null>;
}

export function reciprocalRankFusion(lists: Ranked[][], k = RRF_K): FusedItem[] {
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
      entry.raw += 1 / (k + index + 1);
    });
  });
  const max = lists.length / (k + 1);
  return [...fused.values()]
    .map(({ raw, ...rest }) => ({ ...rest, score: max > 0 ? raw / max : 0 }))
    .sort((a, b) => b.score - a.score);
}
