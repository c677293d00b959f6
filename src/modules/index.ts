import type { AppRouter } from '../lib/router';
import { authRouter } from './auth';
import { executionsRouter } from './executions';
import { workflowsRouter } from './workflows';

/** Every module router, mounted under `/api/v1` + its prefix. */
export const modules: Array<[prefix: string, router: AppRouter]> = [
  ['/auth', authRouter],
  ['/workflows', workflowsRouter],
  ['/executions', executionsRouter],
];
