import { env } from 'cloudflare:workers';
import type { Env } from '../../env';
import { ApiError } from '../../lib/errors';
import type { RuntimeFetch, RuntimeOutcome } from '../../../workers/runtime/src/index';
import type { SandboxFetch, SandboxResult, SandboxRun } from './types';

export type { SandboxFetch, SandboxLimits, SandboxResult, SandboxRun } from './types';
export { SANDBOX_DEFAULTS } from './types';

/**
 * Runs user JavaScript in QuickJS compiled to WebAssembly, in the runtime worker
 * (workers/runtime, reached through the RUNTIME service binding) — never in this isolate: the
 * API worker neither runs nor even bundles the interpreter. Limits travel with the run; a refusal
 * comes back as the same ApiError (CODE_ERROR, SANDBOX_TIMEOUT, ...) as if it had run here.
 *
 * When the run may fetch, the function is passed by RPC as a stub: the sandbox's requests come
 * back here and go out through the caller's fetch (the SSRF guard of src/lib/outbound.ts, with
 * this worker's configuration).
 */
export async function runSandboxed(run: SandboxRun): Promise<SandboxResult> {
  const runtime = (env as unknown as Env).RUNTIME;
  if (!runtime) throw new ApiError(503, 'SANDBOX_UNAVAILABLE', 'The code sandbox (the tiangong-runtime worker) is not bound to this worker');
  const { fetch, ...limits } = run;
  // (RPC's types cannot express `result: unknown`, which is JSON the sandbox made: restate it.)
  const outcome = (await runtime.runCode({ ...limits, ...(fetch ? { fetch: bridgeFetch(fetch) } : {}) })) as RuntimeOutcome<SandboxResult>;
  if ('refused' in outcome) throw new ApiError(outcome.refused.status as 422 | 504, outcome.refused.code, outcome.refused.message);
  return outcome.value;
}

/** The caller's fetch as lent to the runtime: a refusal is a value, with the API error code ("SSRF_BLOCKED: ..."). */
function bridgeFetch(fetch: SandboxFetch): RuntimeFetch {
  return async (url, init) => {
    try {
      return { response: await fetch(url, init) };
    } catch (e) {
      return { failed: e instanceof ApiError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e) };
    }
  };
}
