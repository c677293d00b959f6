import type { z } from '@hono/zod-openapi';
import type { Env } from '../../../env';
import { findTemplate, workflowTemplates } from '../../../engine/workflow/templates';
import type { Graph, InputDef } from '../../../engine/workflow/types';
import { validateGraph } from '../../../engine/workflow/validate';
import type { AuthUser } from '../../../lib/auth';
import { authorizeResource, decide, grantsCleanup, readableWhere, requirePermission, type Action } from '../../identity/permissions/authorize';
import { notFound } from '../../../lib/errors';
import { pageBounds, paginateArray, paginated, type Pagination } from '../../../lib/pagination';
import type { Statement } from '../../../db/client';
import { runBatch } from '../../../db/client';
import { executeWorkflow as runWorkflow } from '../../../runs/workflow-run';
import { configureWebhook, webhookRow, webhookView } from '../webhooks/service';
import { deleteWebhookStatements } from '../webhooks/store';
import { checkWorkflowGate } from '../../governance/evals/gate';
import { deleteWorkflowGateStatement } from '../../governance/evals/store';
import {
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  type CreateWorkflowBody,
  type ImportBody,
  type UpdateWorkflowBody,
} from './schemas';
import * as store from './store';
import type { WorkflowRow, WorkflowVersionRow } from './store';

function toWorkflow(row: WorkflowRow) {
  return {
    id: row.id,
    owner_id: row.ownerId,
    name: row.name,
    description: row.description,
    graph: JSON.parse(row.graph) as Graph,
    inputs_schema: JSON.parse(row.inputsSchema) as InputDef[],
    version: row.version,
    status: row.status,
    template_id: row.templateId,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function versionInfo(row: store.ListedVersion) {
  return {
    workflow_id: row.workflowId,
    version: row.version,
    name: row.name,
    description: row.description,
    note: row.note,
    created_by: row.createdBy,
    created_at: row.createdAt,
  };
}

function toVersion(row: WorkflowVersionRow) {
  return { ...versionInfo(row), graph: JSON.parse(row.graph) as Graph, inputs_schema: JSON.parse(row.inputsSchema) as InputDef[] };
}

/** The id and owner authorize() decides on. */
const ref = (row: WorkflowRow | null) => row && { id: row.id, owner_id: row.ownerId };

/** A workflow the user may `action` (authorize(): 404 when they may not read it, 403 when they may only read it). */
export async function ownedWorkflow(env: Env, user: AuthUser, id: string, action: Action = 'read'): Promise<WorkflowRow> {
  const row = await store.findWorkflow(env.DB, id);
  await authorizeResource(env, user, 'workflow', ref(row), action);
  return row!;
}

export async function listWorkflows(env: Env, user: AuthUser, q: Pagination & { search?: string; status?: string }) {
  // Own and shared ones (everyone's for admins and roles with workflow:read).
  const readable = await readableWhere(env, user, 'workflow', store.workflowAccess);
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listWorkflows(env.DB, { readable, search: q.search, status: q.status, limit, offset });
  const items = rows.map((r) => {
    const { graph, ...rest } = toWorkflow(r);
    return { ...rest, node_count: graph.nodes.length };
  });
  return paginated(items, total, q);
}

interface NewWorkflow {
  name: string;
  description: string;
  graph: Graph;
  inputs_schema: InputDef[];
  status: 'draft' | 'active' | 'archived';
  template_id?: string | null;
  note?: string;
}

/** The INSERTs of a workflow and its version 1, for callers that batch them with other writes. */
export function workflowInsertStatements(env: Env, user: AuthUser, input: NewWorkflow): { id: string; statements: Statement[] } {
  const id = crypto.randomUUID();
  const statements = store.insertWorkflowStatements(env.DB, {
    id,
    ownerId: user.id,
    name: input.name,
    description: input.description,
    graph: JSON.stringify(input.graph),
    inputsSchema: JSON.stringify(input.inputs_schema),
    status: input.status,
    templateId: input.template_id ?? null,
    note: input.note ?? 'created',
  });
  return { id, statements };
}

/** Inserts a workflow and its version 1 together. */
export async function createWorkflow(env: Env, user: AuthUser, input: NewWorkflow) {
  await requirePermission(env, user, 'workflow:create');
  const { id, statements } = workflowInsertStatements(env, user, input);
  await runBatch(env.DB, statements);
  return toWorkflow((await store.findWorkflow(env.DB, id))!);
}

export async function getWorkflow(env: Env, user: AuthUser, id: string) {
  return toWorkflow(await ownedWorkflow(env, user, id));
}

/** GET /workflows/{id}: the workflow, with its webhook for those who may administer it. */
export async function getWorkflowDetail(env: Env, user: AuthUser, id: string, origin: string) {
  // The webhook's row is read beside the workflow's (one round trip, not two) and shown only to
  // those who may administer the workflow.
  const [row, hook] = await Promise.all([ownedWorkflow(env, user, id), webhookRow(env, id)]);
  const admin = (await decide(env, user, 'workflow', ref(row), 'admin')).allowed;
  return admin ? { ...toWorkflow(row), webhook: await webhookView(env, origin, row, hook) } : toWorkflow(row);
}

/**
 * PUT /workflows/{id}: the definition fields save a new version (updateWorkflow); the webhook
 * fields (admin access, checked before anything is saved) switch the webhook and rotate its
 * secret, the new secret answered once in `webhook.secret`.
 */
export async function updateWorkflowDetail(env: Env, user: AuthUser, id: string, body: z.infer<typeof UpdateWorkflowBody>, origin: string) {
  const { webhook_enabled, rotate_webhook_secret, ...fields } = body;
  const hook = webhook_enabled !== undefined || rotate_webhook_secret === true;
  if (!hook) await updateWorkflow(env, user, id, fields);
  else {
    await ownedWorkflow(env, user, id, 'admin');
    if (Object.values(fields).some((v) => v !== undefined)) await updateWorkflow(env, user, id, fields);
  }
  const detail = await getWorkflowDetail(env, user, id, origin);
  if (!hook) return detail;
  return { ...detail, webhook: await configureWebhook(env, detail, { enabled: webhook_enabled, rotate: rotate_webhook_secret }, origin) };
}

/**
 * Stores a new version: the row moves to version+1 and the history gains that version. The
 * version check in the UPDATE makes concurrent saves append one after the other, never overwrite.
 */
async function saveVersion(env: Env, user: AuthUser, row: WorkflowRow, next: Omit<NewWorkflow, 'template_id'>) {
  const saved = await store.saveWorkflowVersion(env.DB, row.id, row.version, {
    name: next.name,
    description: next.description,
    graph: JSON.stringify(next.graph),
    inputsSchema: JSON.stringify(next.inputs_schema),
    status: next.status,
    note: next.note ?? '',
    createdBy: user.id,
  });
  if (!saved) {
    // Someone saved in between: build on their version.
    return saveVersion(env, user, await ownedWorkflow(env, user, row.id, 'write'), next);
  }
  return getWorkflow(env, user, row.id);
}

export async function updateWorkflow(env: Env, user: AuthUser, id: string, body: z.infer<typeof UpdateWorkflowBody>) {
  const row = await ownedWorkflow(env, user, id, 'write');
  const cur = toWorkflow(row);
  const next = {
    name: body.name ?? cur.name,
    description: body.description ?? cur.description,
    graph: body.graph ?? cur.graph,
    inputs_schema: body.inputs_schema ?? cur.inputs_schema,
    status: body.status ?? cur.status,
    note: body.note ?? '',
  };
  await checkGate(env, row, cur, next);
  return saveVersion(env, user, row, next);
}

/** A version that changes what runs (graph or inputs) passes the workflow's deploy gate first (docs/evals.md). */
async function checkGate(env: Env, row: WorkflowRow, cur: { graph: Graph; inputs_schema: InputDef[] }, next: { graph: Graph; inputs_schema: InputDef[] }) {
  if (JSON.stringify(next.graph) === JSON.stringify(cur.graph) && JSON.stringify(next.inputs_schema) === JSON.stringify(cur.inputs_schema)) return;
  await checkWorkflowGate(env, { id: row.id, ownerId: row.ownerId, nextVersion: row.version + 1, graph: next.graph, inputsSchema: next.inputs_schema });
}

export async function deleteWorkflow(env: Env, user: AuthUser, id: string) {
  await ownedWorkflow(env, user, id, 'admin');
  await runBatch(env.DB, deleteWorkflowStatements(env, id));
}

/** Executions stay for the record; the definition, its history, its grants and its webhook go. */
export function deleteWorkflowStatements(env: Env, id: string): Statement[] {
  return [
    ...store.deleteWorkflowStatements(env.DB, id),
    grantsCleanup(env.DB, 'workflow', id),
    ...deleteWebhookStatements(env.DB, id),
    deleteWorkflowGateStatement(env.DB, id),
  ];
}

export async function listVersions(env: Env, user: AuthUser, id: string, q: Pagination) {
  await ownedWorkflow(env, user, id);
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listVersions(env.DB, id, limit, offset);
  return paginated(rows.map(versionInfo), total, q);
}

export async function getVersion(env: Env, user: AuthUser, id: string, v: number) {
  await ownedWorkflow(env, user, id);
  const row = await store.findVersion(env.DB, id, v);
  if (!row) throw notFound(`Version ${v}`);
  return toVersion(row);
}

/** A new version equal to version v; the history is never rewritten. */
export async function rollback(env: Env, user: AuthUser, id: string, v: number) {
  const row = await ownedWorkflow(env, user, id, 'write');
  const target = await getVersion(env, user, id, v);
  await checkGate(env, row, toWorkflow(row), target);
  return saveVersion(env, user, row, {
    name: target.name,
    description: target.description,
    graph: target.graph,
    inputs_schema: target.inputs_schema,
    status: row.status,
    note: `rollback to version ${v}`,
  });
}

export function validate(graph: Graph, inputsSchema: InputDef[]) {
  return validateGraph(graph, inputsSchema);
}

export async function exportWorkflow(env: Env, user: AuthUser, id: string) {
  const wf = await getWorkflow(env, user, id);
  return {
    format: EXPORT_FORMAT,
    format_version: EXPORT_FORMAT_VERSION,
    exported_at: new Date().toISOString(),
    workflow: { name: wf.name, description: wf.description, graph: wf.graph, inputs_schema: wf.inputs_schema, status: wf.status },
  };
}

export async function importWorkflow(env: Env, user: AuthUser, doc: z.infer<typeof ImportBody>) {
  return createWorkflow(env, user, {
    name: doc.name ?? doc.workflow.name,
    description: doc.workflow.description,
    graph: doc.workflow.graph as Graph,
    inputs_schema: doc.workflow.inputs_schema as InputDef[],
    status: doc.workflow.status,
    note: 'imported',
  });
}

export async function createFromBody(env: Env, user: AuthUser, body: z.infer<typeof CreateWorkflowBody>) {
  return createWorkflow(env, user, { ...body, graph: body.graph as Graph, inputs_schema: body.inputs_schema as InputDef[] });
}

export function listTemplates(q: Pagination & { category?: string; search?: string }) {
  const needle = q.search?.toLowerCase();
  const all = workflowTemplates
    .filter((t) => !q.category || t.category === q.category)
    .filter((t) => !needle || t.name.toLowerCase().includes(needle) || t.description.toLowerCase().includes(needle))
    .map(({ graph, ...t }) => ({ ...t, node_count: graph.nodes.length }));
  return paginateArray(all, q);
}

export function getTemplate(id: string) {
  const t = findTemplate(id);
  if (!t) throw notFound('Template');
  return t;
}

export async function createFromTemplate(env: Env, user: AuthUser, id: string, body: { name?: string; description?: string }) {
  const t = getTemplate(id);
  return createWorkflow(env, user, {
    name: body.name ?? t.name,
    description: body.description ?? t.description,
    graph: structuredClone(t.graph),
    inputs_schema: structuredClone(t.inputs_schema),
    status: 'draft',
    template_id: t.id,
    note: `created from template ${t.id}`,
  });
}

export async function execute(env: Env, user: AuthUser, id: string, body: { inputs: Record<string, unknown>; async: boolean; wait_ms: number }) {
  // authorize() (execute) inside; the run is the caller's and uses the owner's agents and tools.
  return runWorkflow(env, user, id, { inputs: body.inputs, waitMs: body.async ? 0 : body.wait_ms, trigger: 'api' });
}
