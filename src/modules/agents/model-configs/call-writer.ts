import { setCallWriter } from '../../../engine/llm/gateway';

// Model calls made without a recorder (knowledge answers, LLM nodes, ai tools) are written here, when they end
// (the store is imported with the first call, not at startup: every isolate registers the writer).
setCallWriter(async (env, record) => (await import('./store')).writeLlmCall(env.DB, record));
