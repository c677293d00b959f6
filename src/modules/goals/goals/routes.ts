import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errorResponse, errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import {
  CreateGoalBody,
  ExecuteAsyncResponse,
  GoalListQuery,
  GoalSchema,
  InteractBody,
  InteractResponse,
  PlanResponse,
  ReplanBody,
  TaskTreeSchema,
  UpdateGoalBody,
} from './schemas';

const tags = ['goals'];
const params = idParam('goal_id');
const goalResponse = (description: string) => jsonContent(GoalSchema, description);
const upstream = errorResponse('The model failed or returned an unusable answer');
/** A JSON body that may be left out (then it is `{}`). */
const optionalJsonBody = <T extends Parameters<typeof jsonBody>[0]>(schema: T) => ({ ...jsonBody(schema), required: false });

export const list = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/',
  summary: 'Goals (own; admins see all), newest first, with search and status/priority filters',
  request: { query: GoalListQuery },
  responses: {
    200: jsonContent(paginatedSchema(GoalSchema, 'GoalList'), 'A page of goals'),
    ...errors(401, 422),
  },
});

export const create = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/',
  summary: 'Create a goal (status draft)',
  request: { body: jsonBody(CreateGoalBody) },
  responses: {
    201: goalResponse('The new goal'),
    ...errors(401, 403, 422),
  },
});

export const get = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/{goal_id}',
  summary: 'A goal with its progress',
  request: { params },
  responses: {
    200: goalResponse('The goal'),
    ...errors(401, 404),
  },
});

export const update = createRoute({
  tags,
  ...authenticated,
  method: 'put',
  path: '/{goal_id}',
  summary: 'Update a goal; `status: cancelled` cancels it',
  request: { params, body: jsonBody(UpdateGoalBody) },
  responses: {
    200: goalResponse('The updated goal'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const remove = createRoute({
  tags,
  ...authenticated,
  method: 'delete',
  path: '/{goal_id}',
  summary: 'Delete a goal with its tasks',
  request: { params },
  responses: {
    204: { description: 'Deleted' },
    ...errors(401, 403, 404),
  },
});

export const start = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{goal_id}/start',
  summary: 'Start a draft goal (draft → active); its tasks can then be claimed and executed',
  request: { params },
  responses: {
    200: goalResponse('The active goal'),
    ...errors(401, 403, 404, 409),
  },
});

export const pause = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{goal_id}/pause',
  summary: 'Pause (active → paused): no new task starts until resumed',
  request: { params },
  responses: {
    200: goalResponse('The paused goal'),
    ...errors(401, 403, 404, 409),
  },
});

export const resume = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{goal_id}/resume',
  summary: 'Resume (paused → active), continuing where it was',
  request: { params },
  responses: {
    200: goalResponse('The active goal'),
    ...errors(401, 403, 404, 409),
  },
});

export const decompose = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{goal_id}/decompose',
  summary: 'Break the goal into a task tree (mock model: one task per non-empty line of the description, each depending on the previous); 409 once tasks have started',
  request: { params },
  responses: {
    200: jsonContent(PlanResponse, 'The goal and its tasks'),
    ...errors(401, 403, 404, 409, 422),
    502: upstream,
  },
});

export const replan = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{goal_id}/replan',
  summary: 'Revise the tasks that are not completed in the light of the results so far (completed tasks are kept)',
  request: { params, body: optionalJsonBody(ReplanBody) },
  responses: {
    200: jsonContent(PlanResponse, 'The goal and its tasks'),
    ...errors(401, 403, 404, 409, 422),
    502: upstream,
  },
});

export const executeAsync = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{goal_id}/execute-async',
  summary: 'Execute asynchronously: every ready task goes on the queue; finished tasks enqueue the ones they unblock; the goal completes on its own',
  request: { params },
  responses: {
    202: jsonContent(ExecuteAsyncResponse, 'Execution started'),
    ...errors(401, 403, 404, 409),
  },
});

export const interact = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{goal_id}/interact',
  summary: 'Talk about the goal: its tasks and results are the context',
  request: { params, body: jsonBody(InteractBody) },
  responses: {
    200: jsonContent(InteractResponse, 'The answer'),
    ...errors(401, 403, 404, 422),
    502: upstream,
  },
});

export const tasks = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/{goal_id}/tasks',
  summary: 'The task tree: tasks nested by parent, with dependencies and statuses',
  request: { params },
  responses: {
    200: jsonContent(TaskTreeSchema, 'The task tree'),
    ...errors(401, 404),
  },
});
