import type { AppRouter } from '../lib/router';
import { agentChatRouter } from './agent-chat';
import { agentsRouter } from './agents';
import { authRouter } from './auth';
import { modelConfigsRouter } from './model-configs';

/** Every module router, mounted under `/api/v1` + its prefix. */
export const modules: Array<[prefix: string, router: AppRouter]> = [
  ['/auth', authRouter],
  ['/agents', agentsRouter],
  ['/agent-chat', agentChatRouter],
  ['/model-configs', modelConfigsRouter],
];
