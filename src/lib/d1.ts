/** Telling D1's constraint failures apart (drizzle wraps a query's error: the driver's is its cause). */
export function isUniqueViolation(e: unknown): boolean {
  for (let err = e, depth = 0; err && depth < 4; err = (err as { cause?: unknown }).cause, depth++) {
    if (/UNIQUE constraint failed/i.test(String(err instanceof Error ? err.message : err))) return true;
  }
  return false;
}
