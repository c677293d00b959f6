import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import { CreateScheduleBody, ScheduleListQuery, ScheduleSchema, TriggerResultSchema, UpdateScheduleBody } from './schemas';

const tags = ['agent-schedules'];
const params = idParam('schedule_id');

export const list = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/',
  summary: 'Your agent schedules (admins: all), newest first; filter by agent_id and enabled',
  request: { query: ScheduleListQuery },
  responses: { 200: jsonContent(paginatedSchema(ScheduleSchema, 'AgentScheduleList'), 'A page of schedules'), ...errors(401, 422) },
});

export const create = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/',
  summary: 'Schedule an agent you may execute: a 5-field cron expression read in an IANA timezone',
  request: { body: jsonBody(CreateScheduleBody) },
  responses: { 201: jsonContent(ScheduleSchema, 'The schedule with its next_run_at'), ...errors(401, 403, 404, 422) },
});

export const update = createRoute({
  ...authenticated,
  tags,
  method: 'patch',
  path: '/{schedule_id}',
  summary: 'Change a schedule (fields sent replace the stored ones; a new cron, timezone or enabling recomputes next_run_at)',
  request: { params, body: jsonBody(UpdateScheduleBody) },
  responses: { 200: jsonContent(ScheduleSchema, 'The schedule'), ...errors(401, 403, 404, 422) },
});

export const remove = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/{schedule_id}',
  summary: 'Delete a schedule and its run records (its executions stay)',
  request: { params },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
});

export const trigger = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/{schedule_id}/trigger',
  summary: 'Run the schedule now (an execution with trigger `schedule`; next_run_at is unchanged)',
  request: { params },
  responses: { 202: jsonContent(TriggerResultSchema, 'The started execution'), ...errors(401, 403, 404, 422) },
});
