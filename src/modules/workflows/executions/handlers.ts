import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import { executeAgentWorkflow, executeWorkflow } from '../../../runs/workflow-run';
import { RetryBody } from './schemas';
import * as service from './service';

type H<R extends RouteConfig> = RouteHandler<R, AppEnv>;

export const create: H<typeof routes.create> = async (c) => {
  const body = c.req.valid('json');
  const user = c.get('user');
  const waitMs = body.async ? 0 : body.wait_ms;
  const opts = { inputs: body.inputs, waitMs, trigger: 'api' };
  const { execution, settled } = body.workflow_id
    ? await executeWorkflow(c.env, user, body.workflow_id, opts)
    : await executeAgentWorkflow(c.env, user, body.agent_id!, opts);
  return c.json(execution, settled ? 200 : 202);
};

export const list: H<typeof routes.list> = async (c) => c.json(await service.listExecutions(c.env, c.get('user'), c.req.valid('query')), 200);

export const get: H<typeof routes.get> = async (c) => c.json(await service.getExecution(c.env, c.get('user'), c.req.valid('param').execution_id), 200);

export const pause: H<typeof routes.pause> = async (c) =>
  c.json(await service.pauseExecution(c.env, c.get('user'), c.req.valid('param').execution_id), 200);

export const resume: H<typeof routes.resume> = async (c) => {
  const body = /json/i.test(c.req.header('content-type') ?? '') ? c.req.valid('json') : { wait_ms: 0 };
  return c.json(await service.resumeExecution(c.env, c.get('user'), c.req.valid('param').execution_id, body.wait_ms ?? 0), 200);
};

export const cancel: H<typeof routes.cancel> = async (c) =>
  c.json(await service.cancelExecution(c.env, c.get('user'), c.req.valid('param').execution_id), 200);

export const retry: H<typeof routes.retry> = async (c) => {
  const body = /json/i.test(c.req.header('content-type') ?? '') ? c.req.valid('json') : RetryBody.parse({});
  const { execution, settled } = await service.retryExecution(c.env, c.get('user'), c.req.valid('param').execution_id, body);
  return c.json(execution, settled ? 200 : 202);
};

export const fork: H<typeof routes.fork> = async (c) => {
  const { execution, settled } = await service.forkExecution(c.env, c.get('user'), c.req.valid('param').execution_id, c.req.valid('json'));
  return c.json(execution, settled ? 200 : 202);
};
