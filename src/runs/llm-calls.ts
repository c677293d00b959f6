import { runBatch } from '../db/client';
import type { CallRecorder } from '../engine/llm/gateway';
import { insertLlmCall } from '../modules/agents/model-configs/store';

/**
 * Model-call records (llm_calls) of a turn or run: the gateway collects them in a CallRecorder,
 * and they are written with the turn's own batch, or flushed on their own.
 */

/** The recorder's pending records as insert statements, to add to the batch that saves the turn. */
export function llmCallStatements(d1: D1Database, recorder: CallRecorder): D1PreparedStatement[] {
  return recorder.pending().map((r) => insertLlmCall(d1, r));
}

/** Writes what the recorder holds in one batch (a failure is logged, never thrown). */
export async function flushCalls(d1: D1Database, recorder: CallRecorder): Promise<void> {
  const statements = llmCallStatements(d1, recorder);
  if (!statements.length) return;
  try {
    await runBatch(d1, statements);
    recorder.clear(statements.length);
  } catch (e) {
    console.error(JSON.stringify({ type: 'error', where: 'llm_calls insert', error: String(e) }));
  }
}
