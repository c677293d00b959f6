import type { AppRouter } from '../lib/router';
import { authRouter } from './auth';
import { toolsRouter } from './tools';

/** Every module router, mounted under `/api/v1` + its prefix. */
export const modules: Array<[prefix: string, router: AppRouter]> = [
  ['/auth', authRouter],
  ['/tools', toolsRouter],
];
