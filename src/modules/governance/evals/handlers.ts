import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../../lib/context';
import type * as routes from './routes';
import * as service from './service';
import * as gate from './gate';
import { runProgressStream } from './progress';

export const createDataset: RouteHandler<typeof routes.createDataset, AppEnv> = async (c) => c.json(await service.createDataset(c.env, c.get('user'), c.req.valid('json')), 201);
export const listDatasets: RouteHandler<typeof routes.listDatasets, AppEnv> = async (c) => c.json(await service.listDatasets(c.env, c.get('user'), c.req.valid('query')), 200);
export const getDataset: RouteHandler<typeof routes.getDataset, AppEnv> = async (c) => c.json(await service.getDataset(c.env, c.get('user'), c.req.valid('param').dataset_id), 200);
export const deleteDataset: RouteHandler<typeof routes.deleteDataset, AppEnv> = async (c) => {
  await service.deleteDataset(c.env, c.get('user'), c.req.valid('param').dataset_id);
  return c.body(null, 204);
};
export const listRows: RouteHandler<typeof routes.listRows, AppEnv> = async (c) =>
  c.json(await service.listRows(c.env, c.get('user'), c.req.valid('param').dataset_id, c.req.valid('query')), 200);
export const addRows: RouteHandler<typeof routes.addRows, AppEnv> = async (c) =>
  c.json(await service.addRows(c.env, c.get('user'), c.req.valid('param').dataset_id, c.req.valid('json')), 201);
export const removeRows: RouteHandler<typeof routes.removeRows, AppEnv> = async (c) =>
  c.json(await service.removeRows(c.env, c.get('user'), c.req.valid('param').dataset_id, c.req.valid('json').row_ids), 200);

export const createRun: RouteHandler<typeof routes.createRun, AppEnv> = async (c) => c.json(await service.createRun(c.env, c.get('user'), c.req.valid('json')), 202);
export const listRuns: RouteHandler<typeof routes.listRuns, AppEnv> = async (c) => c.json(await service.listRuns(c.env, c.get('user'), c.req.valid('query')), 200);
export const getRun: RouteHandler<typeof routes.getRun, AppEnv> = async (c) => c.json(await service.getRun(c.env, c.get('user'), c.req.valid('param').run_id), 200);
export const listResults: RouteHandler<typeof routes.listResults, AppEnv> = async (c) =>
  c.json(await service.listResults(c.env, c.get('user'), c.req.valid('param').run_id, c.req.valid('query')), 200);
export const cancelRun: RouteHandler<typeof routes.cancelRun, AppEnv> = async (c) => c.json(await service.cancelRun(c.env, c.get('user'), c.req.valid('param').run_id), 200);
export const compareRuns: RouteHandler<typeof routes.compareRuns, AppEnv> = async (c) => c.json(await service.compareRuns(c.env, c.get('user'), c.req.valid('query')), 200);
export const runEvents: RouteHandler<typeof routes.runEvents, AppEnv> = async (c) =>
  (await runProgressStream(c.env, c.get('user'), c.req.valid('param').run_id, c.executionCtx, c.req.raw.signal)) as never;

export const putGate: RouteHandler<typeof routes.putGate, AppEnv> = async (c) => c.json(await gate.putGate(c.env, c.get('user'), c.req.valid('param').agent_id, c.req.valid('json')), 200);
export const getGate: RouteHandler<typeof routes.getGate, AppEnv> = async (c) => c.json(await gate.getGate(c.env, c.get('user'), c.req.valid('param').agent_id), 200);
export const deleteGate: RouteHandler<typeof routes.deleteGate, AppEnv> = async (c) => {
  await gate.deleteGate(c.env, c.get('user'), c.req.valid('param').agent_id);
  return c.body(null, 204);
};
export const putWorkflowGate: RouteHandler<typeof routes.putWorkflowGate, AppEnv> = async (c) =>
  c.json(await gate.putWorkflowGate(c.env, c.get('user'), c.req.valid('param').workflow_id, c.req.valid('json')), 200);
export const getWorkflowGate: RouteHandler<typeof routes.getWorkflowGate, AppEnv> = async (c) =>
  c.json(await gate.getWorkflowGate(c.env, c.get('user'), c.req.valid('param').workflow_id), 200);
export const deleteWorkflowGate: RouteHandler<typeof routes.deleteWorkflowGate, AppEnv> = async (c) => {
  await gate.deleteWorkflowGate(c.env, c.get('user'), c.req.valid('param').workflow_id);
  return c.body(null, 204);
};
