import type { CallRecorder } from '../engine/llm/gateway';
import type { Usage } from '../engine/llm/types';
import { runBatch } from '../db/client';
import * as chatStore from '../modules/agents/agent-chat/store';
import { llmCallStatements } from './llm-calls';

/**
 * A chat session's messages in D1 as the ChatSession actor reads and writes them (the actor
 * keeps its own copy; D1's is for listing, branching and monitoring).
 */

/** A stored message as the actor keeps it (`tool_calls` as JSON text). */
export type StoredMessage = {
  seq: number;
  id: string;
  role: chatStore.MessageRow['role'];
  content: string | null;
  tool_calls: string | null;
  tool_call_id: string | null;
  name: string | null;
};

/** The session's messages in order (a branch's copied history, the first time its actor runs). */
export async function readSessionMessages(d1: D1Database, sessionId: string): Promise<StoredMessage[]> {
  const rows = await chatStore.readHistory(d1, sessionId);
  return rows.map((r) => ({ seq: r.seq, id: r.id, role: r.role, content: r.content, tool_calls: r.toolCalls, tool_call_id: r.toolCallId, name: r.name }));
}

/**
 * Saves a turn's messages in one batch with the session's updated_at and the turn's `llm_calls`
 * rows; the last message carries the turn's token usage (and, for a turn a newer message
 * interrupted, the mark). The recorder forgets what was written.
 */
export async function saveTurn(d1: D1Database, sessionId: string, rows: StoredMessage[], usage: Usage | null, recorder: CallRecorder, interrupted = false): Promise<void> {
  const calls = llmCallStatements(d1, recorder);
  await runBatch(d1, [
    ...rows.map((r, i) => {
      const last = usage && i === rows.length - 1;
      return chatStore.insertMessageStatement(d1, {
        id: r.id,
        sessionId,
        seq: r.seq,
        role: r.role,
        content: r.content,
        toolCalls: r.tool_calls,
        toolCallId: r.tool_call_id,
        name: r.name,
        promptTokens: last ? usage.prompt_tokens : null,
        completionTokens: last ? usage.completion_tokens : null,
        interrupted: interrupted && i === rows.length - 1,
      });
    }),
    chatStore.touchSessionStatement(d1, sessionId),
    ...calls,
  ]);
  recorder.clear(calls.length);
}

/** Whether a turn's user message (its id is the turn's) is in D1: the turn was saved. */
export async function turnSaved(d1: D1Database, sessionId: string, turnId: string): Promise<boolean> {
  return (await chatStore.findSessionMessage(d1, sessionId, turnId)) !== null;
}

/** Deletes messages of a session (a rolled-back turn's, the newest), with the session's updated_at. */
export async function discardMessages(d1: D1Database, sessionId: string, ids: string[]): Promise<void> {
  await runBatch(d1, [chatStore.deleteMessages(d1, sessionId, ids), chatStore.touchSessionStatement(d1, sessionId)]);
}
