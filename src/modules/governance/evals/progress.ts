import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { SseWriter } from '../../../lib/sse';
import { findRun, ownRun, toRun } from './service';

const POLL_MS = 500;
/** A stream ends after this long even if the run goes on (the client reconnects). */
const MAX_STREAM_MS = 10 * 60 * 1000;

/**
 * A run's progress over SSE: the run record is read every POLL_MS, a `progress` event sent when
 * done/status changed, and `done` with the whole run once it has ended. The record is the one
 * source of truth (rows are scored by queue consumers in other isolates).
 */
export async function runProgressStream(env: Env, user: AuthUser, id: string, ctx: { waitUntil(p: Promise<unknown>): void }, signal: AbortSignal): Promise<Response> {
  let run = await ownRun(env, user, id);
  const sse = new SseWriter();
  const stream = async () => {
    const until = Date.now() + MAX_STREAM_MS;
    let seq = 0;
    let last = '';
    for (;;) {
      const progress = { status: run.status, done: run.done, total: run.total, passed: run.passed, errors: run.errors };
      const key = JSON.stringify(progress);
      if (key !== last) await sse.send('progress', progress, ++seq);
      last = key;
      if (!['queued', 'running'].includes(run.status)) {
        await sse.send('done', toRun(run), ++seq);
        break;
      }
      if (signal.aborted || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
      run = (await findRun(env, id)) ?? run;
    }
    await sse.close();
  };
  ctx.waitUntil(stream());
  return sse.response();
}
