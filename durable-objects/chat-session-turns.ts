// What a ChatSession object runs for a turn (a message's checks, the agent loop, the model gateway,
// the session's D1 writes), imported on the object's first use (durable-objects/chat-session.ts), so the worker's
// global scope, which exports the class in every isolate, does not evaluate it.
export { CallRecorder } from '../src/engine/llm/gateway';
export { modelTargetFor, runAgent } from '../src/runs/agent-turn';
export { admitChatTurn } from '../src/runs/chat-admission';
export { discardMessages, readSessionMessages, saveTurn, turnSaved } from '../src/runs/conversation';
export { flushCalls } from '../src/runs/llm-calls';
