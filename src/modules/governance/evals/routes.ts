import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import {
  AddRowsBody,
  CompareQuery,
  CompareSchema,
  CreateDatasetBody,
  CreateRunBody,
  DatasetListQuery,
  DatasetRowSchema,
  DatasetSchema,
  GateBody,
  GateSchema,
  WorkflowGateSchema,
  RemoveRowsBody,
  ResultSchema,
  RunEvents,
  ResultsQuery,
  RowsQuery,
  RunListQuery,
  RunSchema,
} from './schemas';

// Extension beyond the specification (docs/evals.md): every operation here is one.
const tags = ['evals'];
const DatasetParam = idParam('dataset_id');
const RunParam = idParam('run_id');

export const createDataset = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/datasets',
  summary: 'Create a dataset (version 1) from rows, an uploaded JSONL/CSV file, negative feedback samples or chat messages (extension)',
  request: { body: jsonBody(CreateDatasetBody) },
  responses: { 201: jsonContent(DatasetSchema, 'The dataset with its versions'), ...errors(401, 404, 422) },
});

export const listDatasets = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/datasets',
  summary: 'Your datasets, newest first (extension)',
  request: { query: DatasetListQuery },
  responses: { 200: jsonContent(paginatedSchema(DatasetSchema, 'EvalDatasetList'), 'A page of datasets'), ...errors(401, 422) },
});

export const getDataset = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/datasets/{dataset_id}',
  summary: 'A dataset with its versions (extension)',
  request: { params: DatasetParam },
  responses: { 200: jsonContent(DatasetSchema, 'The dataset'), ...errors(401, 404) },
});

export const deleteDataset = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/datasets/{dataset_id}',
  summary: 'Delete a dataset with its versions, rows, runs and results (extension)',
  request: { params: DatasetParam },
  responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
});

export const listRows = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/datasets/{dataset_id}/rows',
  summary: 'The rows of a dataset version (default the current one), in order (extension)',
  request: { params: DatasetParam, query: RowsQuery },
  responses: { 200: jsonContent(paginatedSchema(DatasetRowSchema, 'EvalDatasetRowList'), 'A page of rows'), ...errors(401, 404, 422) },
});

export const addRows = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/datasets/{dataset_id}/rows',
  summary: 'Add rows from any source: a new version of the dataset (extension)',
  request: { params: DatasetParam, body: jsonBody(AddRowsBody) },
  responses: { 201: jsonContent(DatasetSchema, 'The dataset at its new version'), ...errors(401, 404, 422) },
});

export const removeRows = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/datasets/{dataset_id}/rows/remove',
  summary: 'Remove rows: a new version of the dataset (earlier versions keep them) (extension)',
  request: { params: DatasetParam, body: jsonBody(RemoveRowsBody) },
  responses: { 200: jsonContent(DatasetSchema, 'The dataset at its new version'), ...errors(401, 404, 422) },
});

export const createRun = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/runs',
  summary: 'Start an eval run of an agent version, a workflow or a model over a dataset version; rows run on a queue (extension)',
  request: { body: jsonBody(CreateRunBody) },
  responses: { 202: jsonContent(RunSchema, 'The queued run'), ...errors(401, 403, 404, 422) },
});

export const listRuns = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/runs',
  summary: 'Your eval runs, newest first (extension)',
  request: { query: RunListQuery },
  responses: { 200: jsonContent(paginatedSchema(RunSchema, 'EvalRunList'), 'A page of runs'), ...errors(401, 422) },
});

export const compareRuns = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/runs/compare',
  summary: 'Compare two runs over one dataset: means with bootstrap intervals, per-row deltas, regressions (extension)',
  request: { query: CompareQuery },
  responses: { 200: jsonContent(CompareSchema, 'The comparison'), ...errors(401, 404, 422) },
});

export const getRun = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/runs/{run_id}',
  summary: 'An eval run: status, progress (done/total), summary (extension)',
  request: { params: RunParam },
  responses: { 200: jsonContent(RunSchema, 'The run'), ...errors(401, 404) },
});

export const runEvents = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/runs/{run_id}/events',
  summary: 'Live progress of a run over SSE: `progress` events ({status, done, total, passed, errors}) until it ends, then `done` with the run (extension)',
  request: { params: RunParam },
  responses: { 200: { description: 'An SSE stream', content: RunEvents }, ...errors(401, 404) },
});

export const listResults = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/runs/{run_id}/results',
  summary: 'Per-row results of a run: output, scores, latency, tokens, cost, error (extension)',
  request: { params: RunParam, query: ResultsQuery },
  responses: { 200: jsonContent(paginatedSchema(ResultSchema, 'EvalResultList'), 'A page of results'), ...errors(401, 404, 422) },
});

export const cancelRun = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/runs/{run_id}/cancel',
  summary: 'Cancel a queued or running run: rows not started are not run (extension)',
  request: { params: RunParam },
  responses: { 200: jsonContent(RunSchema, 'The cancelled run'), ...errors(401, 404, 409) },
});

const GateParam = idParam('agent_id');

export const putGate = createRoute({
  ...authenticated,
  tags,
  method: 'put',
  path: '/gates/{agent_id}',
  summary: "Set an agent's deploy gate: deploying it first scores the dataset and refuses below min_score with 422 (extension)",
  request: { params: GateParam, body: jsonBody(GateBody) },
  responses: { 200: jsonContent(GateSchema, 'The gate'), ...errors(401, 403, 404, 422) },
});

export const getGate = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/gates/{agent_id}',
  summary: "An agent's deploy gate (extension)",
  request: { params: GateParam },
  responses: { 200: jsonContent(GateSchema, 'The gate'), ...errors(401, 403, 404) },
});

export const deleteGate = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/gates/{agent_id}',
  summary: "Remove an agent's deploy gate (extension)",
  request: { params: GateParam },
  responses: { 204: { description: 'Removed' }, ...errors(401, 403, 404) },
});

const WorkflowGateParam = idParam('workflow_id');

export const putWorkflowGate = createRoute({
  ...authenticated,
  tags,
  method: 'put',
  path: '/gates/workflows/{workflow_id}',
  summary: "Set a workflow's deploy gate: a change that makes a new version (graph or inputs change, rollback) first scores the candidate and refuses below min_score with 422 (extension)",
  request: { params: WorkflowGateParam, body: jsonBody(GateBody) },
  responses: { 200: jsonContent(WorkflowGateSchema, 'The gate'), ...errors(401, 403, 404, 422) },
});

export const getWorkflowGate = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/gates/workflows/{workflow_id}',
  summary: "A workflow's deploy gate (extension)",
  request: { params: WorkflowGateParam },
  responses: { 200: jsonContent(WorkflowGateSchema, 'The gate'), ...errors(401, 403, 404) },
});

export const deleteWorkflowGate = createRoute({
  ...authenticated,
  tags,
  method: 'delete',
  path: '/gates/workflows/{workflow_id}',
  summary: "Remove a workflow's deploy gate (extension)",
  request: { params: WorkflowGateParam },
  responses: { 204: { description: 'Removed' }, ...errors(401, 403, 404) },
});
