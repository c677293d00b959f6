/** What a sandboxed run may use, and what it gave back. */

export interface SandboxLimits {
  /** Wall time for the whole run, host fetches included (default 5 s → 504). */
  timeoutMs?: number;
  /** QuickJS heap limit in bytes (default 32 MiB). */
  memoryBytes?: number;
  /** Largest result, as JSON, in bytes (default 256 KiB; larger is refused). */
  maxOutputBytes?: number;
  /** Largest total console output in bytes (default 64 KiB; the rest is dropped). */
  maxLogBytes?: number;
}

/** A fetch the sandbox may call; only present when the tool explicitly allows network. */
export type SandboxFetch = (
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<{ status: number; headers: Record<string, string>; body: string }>;

export interface SandboxRun extends SandboxLimits {
  code: string;
  args?: Record<string, unknown>;
  fetch?: SandboxFetch;
  /** At most this many fetches per run (default 10). */
  maxFetches?: number;
}

export interface SandboxResult {
  result: unknown;
  logs: string[];
  logs_truncated: boolean;
  duration_ms: number;
}

export const SANDBOX_DEFAULTS = {
  timeoutMs: 5_000,
  memoryBytes: 32 * 1024 * 1024,
  maxOutputBytes: 256 * 1024,
  maxLogBytes: 64 * 1024,
  maxFetches: 10,
} as const;
