import { createRoute } from '@hono/zod-openapi';
import { authenticated, authenticatedDeferred } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errorResponse, errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import {
  BranchDetailSchema,
  BranchListQuery,
  BranchSchema,
  ChatBody,
  ChatResponseSchema,
  CreateBranchBody,
  GraphBody,
  LastEventIdHeader,
  OrchestrateBody,
  OrchestrationResultSchema,
  ResumeBody,
  sseContent,
} from './schemas';

const tags = ['agent-chat'];
const agentParams = idParam('agent_id');
const branchParams = idParam('branch_id');
const upstream = { 502: errorResponse('The model failed (LLM_ERROR)') };

// Static paths (bare, orchestrate, branches) are registered before /{agent_id} (see index.ts).

export const bare = createRoute({
  tags,
  ...authenticatedDeferred,
  method: 'post',
  path: '/bare',
  summary: 'Chat with the default model, no agent (a new session, or continue a bare one)',
  request: { body: jsonBody(ChatBody) },
  responses: {
    200: jsonContent(ChatResponseSchema, 'The reply, tool calls, token usage and iterations'),
    ...errors(401, 404, 422),
    ...upstream,
  },
});

export const bareStream = createRoute({
  tags,
  ...authenticatedDeferred,
  method: 'post',
  path: '/bare/stream',
  summary: 'Chat with the default model as SSE (token, tool_call, tool_result, done, error)',
  request: { body: jsonBody(ChatBody), headers: LastEventIdHeader },
  responses: {
    200: sseContent('The turn as server-sent events; the session id is also in X-Session-Id'),
    ...errors(401, 404),
    409: errorResponse('Last-Event-ID names events no longer kept'),
    ...errors(422),
  },
});

export const orchestrate = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/orchestrate',
  summary: 'Several agents on one message: route (one chosen agent answers), sequential (each output feeds the next), debate (rounds, then a summary)',
  request: { body: jsonBody(OrchestrateBody) },
  responses: {
    200: jsonContent(OrchestrationResultSchema, 'Every step (agent, input, output, token usage) and the final output'),
    ...errors(401, 403, 404),
    409: errorResponse('One of the agents is stopped'),
    ...errors(422),
    ...upstream,
  },
});

export const orchestrateGraph = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/orchestrate/graph',
  summary: 'Agents along a DAG: independent branches run concurrently, a node receives its predecessors’ outputs; cycles are 422',
  request: { body: jsonBody(GraphBody) },
  responses: {
    200: jsonContent(OrchestrationResultSchema, 'Every node’s step and the output of the sink nodes'),
    ...errors(401, 403, 404),
    409: errorResponse('One of the agents is stopped'),
    ...errors(422),
    ...upstream,
  },
});

export const createBranch = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/branches',
  summary: 'Fork a session after one of its messages into a new branch session (the original is never changed)',
  request: { body: jsonBody(CreateBranchBody) },
  responses: {
    201: jsonContent(BranchSchema, 'The branch'),
    ...errors(401, 404, 422),
  },
});

export const listBranches = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/branches',
  summary: 'The caller’s branches, newest first, optionally of one session',
  request: { query: BranchListQuery },
  responses: {
    200: jsonContent(paginatedSchema(BranchSchema, 'ChatBranchList'), 'A page of branches'),
    ...errors(401, 422),
  },
});

export const getBranch = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/branches/{branch_id}',
  summary: 'A branch with its messages, oldest first',
  request: { params: branchParams },
  responses: {
    200: jsonContent(BranchDetailSchema, 'The branch and its messages'),
    ...errors(401, 404),
  },
});

export const deleteBranch = createRoute({
  tags,
  ...authenticated,
  method: 'delete',
  path: '/branches/{branch_id}',
  summary: 'Delete a branch and its messages',
  request: { params: branchParams },
  responses: {
    204: { description: 'Deleted' },
    ...errors(401, 404),
  },
});

export const resumeBranch = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/branches/{branch_id}/resume',
  summary: 'Continue the conversation in the branch',
  request: { params: branchParams, body: jsonBody(ResumeBody) },
  responses: {
    200: jsonContent(ChatResponseSchema, 'The reply in the branch'),
    ...errors(401, 403, 404),
    409: errorResponse('The agent is stopped'),
    ...errors(422),
    ...upstream,
  },
});

export const chat = createRoute({
  tags,
  ...authenticatedDeferred,
  method: 'post',
  path: '/{agent_id}',
  summary: 'Chat with an agent: the agent loop (system prompt, history, tools, function calling up to iteration_limit)',
  request: { params: agentParams, body: jsonBody(ChatBody) },
  responses: {
    200: jsonContent(ChatResponseSchema, 'The reply, tool calls, token usage and iterations'),
    ...errors(401),
    403: errorResponse('The agent is shared with you without permission to execute it'),
    ...errors(404),
    409: errorResponse('The agent is stopped'),
    ...errors(422),
    ...upstream,
  },
});

export const chatStream = createRoute({
  tags,
  ...authenticatedDeferred,
  method: 'post',
  path: '/{agent_id}/stream',
  summary: 'Chat with an agent as SSE; reconnect with Last-Event-ID to get the rest of the turn',
  request: { params: agentParams, body: jsonBody(ChatBody), headers: LastEventIdHeader },
  responses: {
    200: sseContent('The turn as server-sent events; the session id is also in X-Session-Id'),
    ...errors(401),
    403: errorResponse('The agent is shared with you without permission to execute it'),
    ...errors(404),
    409: errorResponse('The agent is stopped, or Last-Event-ID names events no longer kept'),
    ...errors(422),
  },
});
