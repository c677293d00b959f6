import type { AppRouter } from '../lib/router';
import { authRouter } from './auth';
import { knowledgeBasesRouter } from './knowledge-bases';
import { uploadsRouter } from './uploads';

/** Every module router, mounted under `/api/v1` + its prefix. */
export const modules: Array<[prefix: string, router: AppRouter]> = [
  ['/auth', authRouter],
  ['/knowledge-bases', knowledgeBasesRouter],
  ['/uploads', uploadsRouter],
];
