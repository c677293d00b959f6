import { createRoute } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../../lib/context';
import { authenticated, requireAuth } from '../../identity/auth/guard';
import { bearerSecurity } from '../../../lib/auth';
import { errorResponse, errors, idParam, jsonContent } from '../../../lib/schemas';
import { PreviewQuery, PreviewSchema, UploadBody, UploadSchema } from './schemas';
import { tooLarge, uploadMaxBytes } from './service';

const tags = ['uploads'];

/** The upload size limit (UPLOAD_MAX_BYTES, 20 MiB by default), enforced while the body streams in. */
const uploadBodyLimit = createMiddleware<AppEnv>(async (c, next) => {
  const max = uploadMaxBytes(c.env);
  // Multipart framing adds a little to the file's own size.
  const limit = bodyLimit({ maxSize: max + 64 * 1024, onError: () => { throw tooLarge(max); } });
  return limit(c, next);
});

export const upload = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Upload a workspace file (multipart field `file`): txt, md, html, csv, json or PDF',
  security: bearerSecurity,
  middleware: [requireAuth, uploadBodyLimit] as const,
  request: { body: { required: true, content: { 'multipart/form-data': { schema: UploadBody } } } },
  responses: {
    201: jsonContent(UploadSchema, 'The stored upload'),
    ...errors(401),
    413: errorResponse('File too large'),
    415: errorResponse('Unsupported file type'),
    ...errors(422),
  },
});

export const preview = createRoute({
  method: 'get',
  path: '/{upload_id}/preview',
  tags,
  summary: 'Preview an upload: metadata and the start of its extracted text',
  ...authenticated,
  request: { params: idParam('upload_id'), query: PreviewQuery },
  responses: {
    200: jsonContent(PreviewSchema, 'The preview'),
    ...errors(401, 404, 422),
  },
});
