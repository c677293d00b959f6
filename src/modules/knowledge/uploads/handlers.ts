import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';

export const upload: RouteHandler<typeof routes.upload, AppEnv> = async (c) =>
  c.json(await service.createUpload(c.env, c.get('user'), c.req.valid('form').file), 201);

export const preview: RouteHandler<typeof routes.preview, AppEnv> = async (c) =>
  c.json(await service.previewUpload(c.env, c.get('user'), c.req.valid('param').upload_id, c.req.valid('query').max_chars), 200);
