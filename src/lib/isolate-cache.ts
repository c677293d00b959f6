/**
 * A per-isolate memo for hot reads that may be a little stale (who a credential names, what a
 * user's roles allow): at most `maxEntries` (the least recently used goes first) and each entry
 * read again once it is `ttlMs` old. A Worker isolate serves many requests, so most requests find
 * their entry; every isolate has its own, so a change made elsewhere is seen within `ttlMs`.
 */
export class IsolateCache<K, V> {
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  private readonly entries = new Map<K, { value: V; at: number }>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
  ) {}

  /** The value, unless absent or older than the bound. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (isolateCacheClock.now() - entry.at >= this.ttlMs) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, at: isolateCacheClock.now() });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose key or value matches. */
  deleteWhere(match: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.entries) if (match(entry.value, key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The clock entries are aged by: tests move it forward (vi.spyOn) instead of sleeping. */
export const isolateCacheClock = { now: (): number => Date.now() };
