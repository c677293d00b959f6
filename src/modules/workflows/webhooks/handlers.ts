import type { Context } from 'hono';
import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import { receiveWebhook, webhookResult, type WebhookRequest } from './service';

async function handle(c: Context<AppEnv>, target: WebhookRequest['target']) {
  const { execution, settled } = await receiveWebhook(c.env, {
    target,
    rawBody: await c.req.text(),
    timestamp: c.req.header('x-tiangong-timestamp'),
    signature: c.req.header('x-tiangong-signature'),
    secretHeader: c.req.header('x-webhook-secret'),
    wait: c.req.query('wait') === 'true',
  });
  if (settled && c.req.query('wait') === 'true') {
    // The outcome by default; every node's inputs and outputs only when asked for.
    return c.json(c.req.query('details') === 'true' ? { ...execution, execution_id: execution.id } : webhookResult(execution), 200);
  }
  return c.json({ execution_id: execution.id, status: execution.status }, 202);
}

export const byId: RouteHandler<typeof routes.byId, AppEnv> = async (c) => handle(c, { id: c.req.valid('param').workflow_id }) as never;
export const byName: RouteHandler<typeof routes.byName, AppEnv> = async (c) => handle(c, { name: c.req.valid('param').name }) as never;
