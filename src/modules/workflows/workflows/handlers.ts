import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type { Graph, InputDef } from '../../../engine/workflow/types';
import type * as routes from './routes';
import * as service from './service';

type H<R extends import("@hono/zod-openapi").RouteConfig> = RouteHandler<R, AppEnv>;

export const list: H<typeof routes.list> = async (c) => c.json(await service.listWorkflows(c.env, c.get('user'), c.req.valid('query')), 200);

export const create: H<typeof routes.create> = async (c) =>
  c.json(await service.createFromBody(c.env, c.get('user'), c.req.valid('json')), 201);

export const validate: H<typeof routes.validate> = async (c) => {
  const body = c.req.valid('json');
  return c.json(service.validate(body.graph as Graph, body.inputs_schema as InputDef[]), 200);
};

export const importWorkflow: H<typeof routes.importWorkflow> = async (c) =>
  c.json(await service.importWorkflow(c.env, c.get('user'), c.req.valid('json')), 201);

export const listTemplates: H<typeof routes.listTemplates> = async (c) => c.json(service.listTemplates(c.req.valid('query')), 200);

export const getTemplate: H<typeof routes.getTemplate> = async (c) => c.json(service.getTemplate(c.req.valid('param').id), 200);

export const createFromTemplate: H<typeof routes.createFromTemplate> = async (c) => {
  const body = /json/i.test(c.req.header('content-type') ?? '') ? c.req.valid('json') : {};
  return c.json(await service.createFromTemplate(c.env, c.get('user'), c.req.valid('param').id, body ?? {}), 201);
};

export const get: H<typeof routes.get> = async (c) =>
  c.json(await service.getWorkflowDetail(c.env, c.get('user'), c.req.valid('param').workflow_id, new URL(c.req.url).origin), 200);

export const update: H<typeof routes.update> = async (c) =>
  c.json(await service.updateWorkflowDetail(c.env, c.get('user'), c.req.valid('param').workflow_id, c.req.valid('json'), new URL(c.req.url).origin), 200);

export const remove: H<typeof routes.remove> = async (c) => {
  await service.deleteWorkflow(c.env, c.get('user'), c.req.valid('param').workflow_id);
  return c.body(null, 204);
};

export const execute: H<typeof routes.execute> = async (c) => {
  const body = /json/i.test(c.req.header('content-type') ?? '') ? c.req.valid('json') : { inputs: {}, async: false, wait_ms: 30_000 };
  const { execution, settled } = await service.execute(c.env, c.get('user'), c.req.valid('param').workflow_id, {
    inputs: body.inputs ?? {},
    async: body.async ?? false,
    wait_ms: body.wait_ms ?? 30_000,
  });
  return c.json({ ...execution, execution_id: execution.id }, settled ? 200 : 202);
};

export const exportWorkflow: H<typeof routes.exportWorkflow> = async (c) =>
  c.json(await service.exportWorkflow(c.env, c.get('user'), c.req.valid('param').workflow_id), 200);

export const versions: H<typeof routes.versions> = async (c) =>
  c.json(await service.listVersions(c.env, c.get('user'), c.req.valid('param').workflow_id, c.req.valid('query')), 200);

export const version: H<typeof routes.version> = async (c) => {
  const { workflow_id, v } = c.req.valid('param');
  return c.json(await service.getVersion(c.env, c.get('user'), workflow_id, v), 200);
};

export const rollback: H<typeof routes.rollback> = async (c) => {
  const { workflow_id, v } = c.req.valid('param');
  return c.json(await service.rollback(c.env, c.get('user'), workflow_id, v), 200);
};
