import type { SandboxResult, SandboxRun } from './types';

export type { SandboxFetch, SandboxLimits, SandboxResult, SandboxRun } from './types';
export { SANDBOX_DEFAULTS } from './types';

/**
 * Runs user JavaScript in QuickJS compiled to WebAssembly — never in this isolate's own engine.
 * The interpreter is imported lazily: only requests that run code pay for instantiating it.
 */
export async function runSandboxed(run: SandboxRun): Promise<SandboxResult> {
  const { runInQuickJS } = await import('./quickjs');
  return runInQuickJS(run);
}
