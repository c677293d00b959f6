import type { CallRecorder } from '../engine/llm/gateway';

/**
 * Model-call records (llm_calls) of a turn or run: the gateway collects them in a CallRecorder,
 * and they are written with the turn's own batch, or flushed on their own.
 */

/** The recorder's pending records as insert statements, to add to the batch that saves the turn. */
export function llmCallStatements(d1: D1Database, recorder: CallRecorder) {
  return recorder.statements(d1);
}

/** Writes what the recorder holds in one batch (a failure is logged, never thrown). */
export function flushCalls(d1: D1Database, recorder: CallRecorder): Promise<void> {
  return recorder.flush(d1);
}
