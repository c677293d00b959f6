import { setCallWriter } from '../../../engine/llm/gateway';
import { writeLlmCall } from './store';

// Model calls made without a recorder (knowledge answers, LLM nodes, ai tools) are written here, when they end.
setCallWriter((env, record) => writeLlmCall(env.DB, record));
