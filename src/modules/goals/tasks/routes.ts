import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema, PaginationQuery } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import {
  ApproveBody,
  BlockersSchema,
  ClaimBody,
  CompleteBody,
  CreateTaskBody,
  FailBody,
  RejectBody,
  TaskListQuery,
  TaskSchema,
  UpdateTaskBody,
} from './schemas';

const tags = ['tasks'];
const params = idParam('task_id');
const goalParams = idParam('goal_id');
const taskResponse = (description: string) => jsonContent(TaskSchema, description);
/** A JSON body that may be left out (then it is `{}` with the defaults). */
const optionalJsonBody = <T extends Parameters<typeof jsonBody>[0]>(schema: T) => ({ ...jsonBody(schema), required: false });

export const list = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/',
  summary: 'Tasks (own; admins see all), with goal, status, agent and search filters',
  request: { query: TaskListQuery },
  responses: {
    200: jsonContent(paginatedSchema(TaskSchema, 'TaskList'), 'A page of tasks'),
    ...errors(401, 422),
  },
});

export const create = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/',
  summary: 'Create a task in a goal (pending)',
  request: { body: jsonBody(CreateTaskBody) },
  responses: {
    201: taskResponse('The new task'),
    ...errors(401, 403, 409, 422),
  },
});

export const available = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/available/{goal_id}',
  summary: 'Tasks of the goal that can be claimed now: pending, dependencies completed, approved if needed, no live lease',
  request: { params: goalParams, query: PaginationQuery },
  responses: {
    200: jsonContent(paginatedSchema(TaskSchema, 'AvailableTaskList'), 'Claimable tasks in plan order'),
    ...errors(401, 404, 422),
  },
});

export const get = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/{task_id}',
  summary: 'A task',
  request: { params },
  responses: {
    200: taskResponse('The task'),
    ...errors(401, 404),
  },
});

export const update = createRoute({
  tags,
  ...authenticated,
  method: 'put',
  path: '/{task_id}',
  summary: 'Update a task that is not claimed, running or completed',
  request: { params, body: jsonBody(UpdateTaskBody) },
  responses: {
    200: taskResponse('The updated task'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const remove = createRoute({
  tags,
  ...authenticated,
  method: 'delete',
  path: '/{task_id}',
  summary: 'Delete a task (its children move to its parent; tasks waiting for it no longer wait)',
  request: { params },
  responses: {
    204: { description: 'Deleted' },
    ...errors(401, 403, 404, 409),
  },
});

export const execute = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{task_id}/execute',
  summary: 'Execute now with its agent, synchronously; answers with the task completed, failed, or pending again with retries left',
  request: { params },
  responses: {
    200: taskResponse('The task after the run'),
    ...errors(401, 403, 404, 409),
  },
});

export const retry = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{task_id}/retry',
  summary: 'Retry a failed task (failed → pending, with a fresh retry budget)',
  request: { params },
  responses: {
    200: taskResponse('The pending task'),
    ...errors(401, 403, 404, 409),
  },
});

export const claim = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{task_id}/claim',
  summary: 'Claim with a lease: among concurrent claims exactly one succeeds, the rest get 409',
  request: { params, body: optionalJsonBody(ClaimBody) },
  responses: {
    200: taskResponse('The claimed task'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const release = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{task_id}/release',
  summary: 'Release a claim (claimed → pending)',
  request: { params },
  responses: {
    200: taskResponse('The pending task'),
    ...errors(401, 403, 404, 409),
  },
});

export const complete = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{task_id}/complete',
  summary: 'Complete a claimed or running task with its result',
  request: { params, body: jsonBody(CompleteBody) },
  responses: {
    200: taskResponse('The completed task'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const fail = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{task_id}/fail',
  summary: 'Fail a claimed or running task (notifies the owner; the goal fails)',
  request: { params, body: jsonBody(FailBody) },
  responses: {
    200: taskResponse('The failed task'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const approve = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{task_id}/approve',
  summary: 'Approve a task that requires approval, so it can run',
  request: { params, body: optionalJsonBody(ApproveBody) },
  responses: {
    200: taskResponse('The approved task'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const reject = createRoute({
  tags,
  ...authenticated,
  method: 'post',
  path: '/{task_id}/reject',
  summary: 'Reject a task that requires approval, saying why (notifies the owner)',
  request: { params, body: jsonBody(RejectBody) },
  responses: {
    200: taskResponse('The rejected task'),
    ...errors(401, 403, 404, 409, 422),
  },
});

export const blockers = createRoute({
  tags,
  ...authenticated,
  method: 'get',
  path: '/{task_id}/blockers',
  summary: 'The unfinished tasks this task depends on',
  request: { params },
  responses: {
    200: jsonContent(BlockersSchema, 'The blockers'),
    ...errors(401, 404),
  },
});
