import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { builtinTools } from '../../../engine/tools/registry';
import type { ToolContext } from '../../../engine/tools/types';
import type { AppEnv } from '../../../lib/context';
import { paginateArray } from '../../../lib/pagination';
import type * as routes from './routes';
import * as service from './service';

function toolContext(c: Context<AppEnv>): ToolContext {
  return { env: c.env, userId: c.get('user').id, caller: 'api', signal: c.req.raw.signal };
}

export const listTools: RouteHandler<typeof routes.listTools, AppEnv> = async (c) =>
  c.json(await service.listTools(c.env, c.get('user').id, c.req.valid('query')), 200);

export const listCategories: RouteHandler<typeof routes.listCategories, AppEnv> = async (c) =>
  c.json(paginateArray(await service.listCategories(c.env, c.get('user').id), c.req.valid('query')), 200);

export const listBuiltin: RouteHandler<typeof routes.listBuiltin, AppEnv> = async (c) => {
  const { category, search, ...page } = c.req.valid('query');
  const q = search?.toLowerCase();
  const tools = builtinTools
    .filter((t) => !category || t.category === category)
    .filter((t) => !q || t.name.includes(q) || t.description.toLowerCase().includes(q) || t.description_zh.includes(search!))
    .map((t) => service.builtinView(c.env, t));
  return c.json(paginateArray(tools, page), 200);
};

export const getTool: RouteHandler<typeof routes.getTool, AppEnv> = async (c) =>
  c.json(await service.getTool(c.env, c.get('user').id, c.req.valid('param').tool_id), 200);

export const createTool: RouteHandler<typeof routes.createTool, AppEnv> = async (c) =>
  c.json(await service.createTool(c.env, c.get('user').id, c.req.valid('json')), 201);

export const updateTool: RouteHandler<typeof routes.updateTool, AppEnv> = async (c) =>
  c.json(await service.updateTool(c.env, c.get('user').id, c.req.valid('param').tool_id, c.req.valid('json')), 200);

export const deleteTool: RouteHandler<typeof routes.deleteTool, AppEnv> = async (c) => {
  await service.deleteTool(c.env, c.get('user').id, c.req.valid('param').tool_id);
  return c.body(null, 204);
};

export const testHttp: RouteHandler<typeof routes.testHttp, AppEnv> = async (c) => {
  const { parameters, arguments: args, ...config } = c.req.valid('json');
  return c.json(await service.testDefinition(toolContext(c), 'http', parameters, config, args), 200);
};

export const testCode: RouteHandler<typeof routes.testCode, AppEnv> = async (c) => {
  const { parameters, arguments: args, ...config } = c.req.valid('json');
  return c.json(await service.testDefinition(toolContext(c), 'code', parameters, config, args), 200);
};

export const useTool: RouteHandler<typeof routes.useTool, AppEnv> = async (c) =>
  c.json(await service.useTool(toolContext(c), c.req.valid('param').tool_id, c.req.valid('json').arguments), 200);
