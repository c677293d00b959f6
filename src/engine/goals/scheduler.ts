/**
 * Scheduling rules of a goal's tasks, without HTTP and without D1: leases, scopes, what the
 * tasks' statuses say about the goal. The scheduling queries themselves are the tasks store's
 * (src/modules/goals/tasks/store.ts).
 */


/** Default lease of an API claim, and of a run by the queue consumer (longer than any agent turn). */
export const CLAIM_LEASE_SECONDS = 300;
export const RUN_LEASE_SECONDS = 900;

export const leaseUntil = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

/** Which tasks a scheduling step looks at: all, those waiting for one task, or one task. */
export type Scope = { dependentsOf?: string; only?: string };

/** What the goal's tasks say about the goal: all done, one failed for good, or still going. */
export function goalOutcome(counts: Record<string, number>): 'completed' | 'failed' | 'open' {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total > 0 && (counts.completed ?? 0) === total) return 'completed';
  if ((counts.failed ?? 0) > 0) return 'failed';
  return 'open';
}

/** Percentage of completed tasks, one decimal. */
export function progressOf(completed: number, total: number): number {
  return total === 0 ? 0 : Math.round((1000 * completed) / total) / 10;
}

/** The message an agent receives for a task (the mock model answers `echo: ` + this). */
export function taskMessage(task: { title: string; description: string }): string {
  return task.description ? `${task.title}\n\n${task.description}` : task.title;
}
