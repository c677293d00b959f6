import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema, PaginationQuery } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import { AgentExportSchema, AgentListQuery, AgentSchema, ChatMessageSchema, CreateAgentBody, CreateMainAgentBody, UpdateAgentBody } from './schemas';

const tags = ['agents'];
const params = idParam('agent_id');
const agentResponse = (description: string) => jsonContent(AgentSchema, description);

export const list = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/',
  summary: 'Agents (own; admins see all), with search over name and description and a status filter',
  request: { query: AgentListQuery },
  responses: {
    200: jsonContent(paginatedSchema(AgentSchema, 'AgentList'), 'A page of agents, newest first'),
    ...errors(401, 422),
  },
});

export const create = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/',
  summary: 'Create an agent (version 1, status draft)',
  request: { body: jsonBody(CreateAgentBody) },
  responses: {
    201: agentResponse('The new agent'),
    ...errors(401, 403, 422),
  },
});

export const importAgent = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/import',
  summary: 'Create an agent for the caller from an exported document',
  request: { body: jsonBody(AgentExportSchema) },
  responses: {
    201: agentResponse('The imported agent'),
    ...errors(401, 403, 422),
  },
});

export const get = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/{agent_id}',
  summary: 'An agent',
  request: { params },
  responses: {
    200: agentResponse('The agent'),
    ...errors(401, 404),
  },
});

export const update = createRoute({
  tags,
  ...authenticated,
  method: 'put',
  path: '/{agent_id}',
  summary: 'Update an agent: fields sent replace the stored ones; the version goes up by one and the previous one is kept',
  request: { params, body: jsonBody(UpdateAgentBody) },
  responses: {
    200: agentResponse('The updated agent'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const remove = createRoute({
  tags,
  ...authenticated,
  method: 'delete',
  path: '/{agent_id}',
  summary: 'Delete an agent with its versions, sessions and schedules (owner or admin)',
  request: { params },
  responses: {
    204: { description: 'Deleted' },
    ...errors(401, 403, 404),
  },
});

export const deploy = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{agent_id}/deploy',
  summary: 'Deploy (draft or stopped → deployed) after checking the agent can run and passes its eval deploy gate, if any; 422 lists what is wrong or the gate\'s score, threshold and eval run',
  request: { params },
  responses: {
    200: agentResponse('The deployed agent'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const stop = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{agent_id}/stop',
  summary: 'Stop a deployed agent (chatting with it then answers 409)',
  request: { params },
  responses: {
    200: agentResponse('The stopped agent'),
    ...errors(401, 403, 404, 409),
  },
});

export const duplicate = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{agent_id}/duplicate',
  summary: 'Deep copy: a new draft agent at version 1, named as a copy',
  request: { params },
  responses: {
    201: agentResponse('The copy'),
    ...errors(401, 403, 404),
  },
});

export const exportAgent = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/{agent_id}/export',
  summary: 'A self-contained JSON document of the agent (no ids, secrets or references to stored configs and custom tools)',
  request: { params },
  responses: {
    200: jsonContent(AgentExportSchema, 'The export document'),
    ...errors(401, 404),
  },
});

export const createMainAgent = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{agent_id}/create-main-agent',
  summary: 'Promote to a main agent that delegates to the given sub-agents (one delegation tool each)',
  request: { params, body: jsonBody(CreateMainAgentBody) },
  responses: {
    200: agentResponse('The main agent'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const previewChatHistory = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/{agent_id}/preview-chat-history',
  summary: "The owner's design-preview conversation with the agent, oldest first",
  request: { params, query: PaginationQuery },
  responses: {
    200: jsonContent(paginatedSchema(ChatMessageSchema, 'ChatMessageList'), 'A page of messages'),
    ...errors(401, 404, 422),
  },
});
