import type { z } from '@hono/zod-openapi';
import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { decide, loadResourceRef, type ResourceType } from '../../identity/permissions/authorize';
import { ApiError, conflict } from '../../../lib/errors';
import { runBatch, type AnyStatement } from '../../../db/client';
import { deleteAgent, deleteAgentStatements, exportAgent, sessionIdsStatement } from '../../agents/agents/service';
import { destroyChatSessions } from '../../agents/agent-chat/service';
import { executeAgentWorkflow, executeWorkflow } from '../../../runs/workflow-run';
import { deleteKnowledgeBase, getKnowledgeBase, getKnowledgeBaseRow, knowledgeBaseDeletion } from '../../knowledge/knowledge-bases/service';
import { deleteTool, getTool } from '../../agents/tools/service';
import { deleteCustomToolStatement, findCustomTool } from '../../agents/tools/store';
import { exportedDocuments } from '../../knowledge/knowledge-bases/store';
import * as store from './store';
import { deleteWorkflow, deleteWorkflowStatements, exportWorkflow } from '../workflows/service';
import { BUNDLE_FORMAT, type BatchResourceType, type DeleteBody, type ExecuteBody, type ExportBody } from './schemas';

/** How many items of a batch are worked on at once. */
const CONCURRENCY = 8;

async function mapLimited<T, R>(items: T[], fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    const part = await Promise.all(items.slice(i, i + CONCURRENCY).map((item, j) => fn(item, i + j)));
    part.forEach((r, j) => (out[i + j] = r));
  }
  return out;
}

/** An ApiError as a per-item outcome: 404 not_found, 403 forbidden, 422 invalid. */
function outcomeOf(e: unknown): { status: 'not_found' | 'forbidden' | 'invalid' | 'error'; error: string } {
  if (!(e instanceof ApiError)) throw e;
  const status = e.status === 404 ? 'not_found' : e.status === 403 ? 'forbidden' : e.status === 422 ? 'invalid' : 'error';
  return { status, error: e.message };
}

// ---------------------------------------------------------------------------------------------
// Execute

/**
 * Starts many agent/workflow runs as executions (trigger `batch`) without waiting: each runs on
 * in its own Execution Durable Object, queued there as pending → running, and is served by
 * /executions/{id}. Starting a run authorizes it (execute access; the run is the caller's and a
 * shared resource uses its owner's rights, like any run of it), so an item that cannot run says
 * why (not_found, forbidden, invalid) and does not stop the others. The batch and its items are
 * recorded (batches, batch_items).
 */
export async function executeBatch(env: Env, user: AuthUser, body: z.infer<typeof ExecuteBody>) {
  const items = await mapLimited(body.items, async (item, index) => {
    const base = { index, type: item.type, id: item.id };
    try {
      const opts = { trigger: 'batch', waitMs: 0 };
      const { execution } =
        item.type === 'agent'
          ? await executeAgentWorkflow(env, user, item.id, { ...opts, inputs: { ...item.inputs, ...(item.input !== undefined ? { message: item.input } : {}) } })
          : await executeWorkflow(env, user, item.id, { ...opts, inputs: item.inputs ?? {} });
      return { ...base, execution_id: execution.id as string | null, status: execution.status as string };
    } catch (e) {
      const o = outcomeOf(e);
      return { ...base, execution_id: null, status: o.status, error: o.error };
    }
  });

  const batchId = crypto.randomUUID();
  await store.insertBatch(
    env.DB,
    { id: batchId, ownerId: user.id },
    items.map((it) => ({
      idx: it.index,
      type: it.type,
      resourceId: it.id,
      executionId: it.execution_id,
      status: it.status,
      error: 'error' in it ? (it.error ?? null) : null,
    })),
  );
  const started = items.filter((i) => i.execution_id).length;
  return { batch_id: batchId, total: items.length, started, failed: items.length - started, items };
}

// ---------------------------------------------------------------------------------------------
// Export

/** A custom tool's definition, without credentials: secret headers are named, never included. */
async function exportTool(env: Env, user: AuthUser, id: string) {
  const owned = await findCustomTool(env.DB, user.id, id);
  if (!owned) throw new ApiError(404, 'NOT_FOUND', 'Tool not found');
  const tool = await getTool(env, user.id, id.toLowerCase());
  const config = { ...(tool.config as Record<string, unknown>) };
  const secretHeaders = (config.secret_headers as string[] | undefined) ?? [];
  if (config.headers && typeof config.headers === 'object') {
    config.headers = Object.fromEntries(Object.entries(config.headers as Record<string, string>).filter(([name]) => !secretHeaders.includes(name)));
  }
  return {
    format: 'tiangong.tool',
    format_version: 1,
    tool: { name: tool.name, description: tool.description, category: tool.category, type: tool.type, parameters: tool.parameters, config },
  };
}

/** A knowledge base's settings and its documents' list (no contents, no embedding key). */
async function exportKnowledgeBase(env: Env, user: AuthUser, id: string) {
  const kb = await getKnowledgeBase(env, user, id);
  const documents = (await exportedDocuments(env.DB, kb.id, 1000)).map((d) => ({
    title: d.title,
    content_type: d.contentType,
    source: d.source,
    size: d.size,
    status: d.status,
  }));
  const { id: _id, owner_id: _owner, ...settings } = kb as Record<string, unknown>;
  return { format: 'tiangong.knowledge_base', format_version: 1, knowledge_base: settings, documents };
}

const exporters: Record<BatchResourceType, (env: Env, user: AuthUser, id: string) => Promise<unknown>> = {
  agent: exportAgent,
  workflow: exportWorkflow,
  knowledge_base: exportKnowledgeBase,
  tool: exportTool,
};

/**
 * One bundle of the modules' own export documents (secrets never: each exporter leaves them
 * out). What the caller may not read, or that does not exist, is listed under `errors`.
 */
export async function exportBatch(env: Env, user: AuthUser, body: z.infer<typeof ExportBody>) {
  const docs = await mapLimited(body.resources, async (r, index) => {
    try {
      return { ok: true as const, type: r.type, id: r.id, document: (await exporters[r.type](env, user, r.id)) as Record<string, unknown> };
    } catch (e) {
      const o = outcomeOf(e);
      if (o.status !== 'not_found') throw e;
      return { ok: false as const, index, type: r.type, id: r.id, error: 'not_found' as const };
    }
  });
  return {
    format: BUNDLE_FORMAT,
    format_version: 1,
    exported_at: new Date().toISOString(),
    resources: docs.flatMap((d) => (d.ok ? [{ type: d.type, id: d.id, document: d.document }] : [])),
    errors: docs.flatMap((d) => (d.ok ? [] : [{ index: d.index, type: d.type, id: d.id, error: d.error }])),
  };
}

// ---------------------------------------------------------------------------------------------
// Delete

type DeleteOutcome = 'deleted' | 'not_found' | 'forbidden' | 'invalid' | 'error';

const deleters: Record<BatchResourceType, (env: Env, user: AuthUser, id: string) => Promise<void>> = {
  agent: deleteAgent,
  workflow: deleteWorkflow,
  knowledge_base: deleteKnowledgeBase,
  tool: (env, user, id) => deleteTool(env, user.id, id),
};

/** May the user delete it (admin access; tools: their own custom tool)? */
async function deletable(env: Env, user: AuthUser, type: BatchResourceType, id: string): Promise<'ok' | 'not_found' | 'forbidden' | 'invalid'> {
  if (type === 'tool') {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return 'invalid';
    return (await findCustomTool(env.DB, user.id, id)) ? 'ok' : 'not_found';
  }
  const t = type as ResourceType;
  const d = await decide(env, user, t, await loadResourceRef(env, t, id), 'admin');
  return d.allowed ? 'ok' : d.reason === 'not_found' ? 'not_found' : 'forbidden';
}

/**
 * Deletes many resources through their modules (what hangs off them goes too). Only what the
 * caller may delete: someone else's resource they cannot see is not_found, one they may only
 * use is forbidden. Without `atomic` each is deleted on its own; with it, all are checked first
 * and, if any cannot be deleted, nothing is (409 naming them); otherwise every deletion runs in
 * one D1 batch (vectors outside D1 are removed after it commits).
 */
export async function deleteBatch(env: Env, user: AuthUser, body: z.infer<typeof DeleteBody>) {
  if (!body.atomic) {
    const items = [];
    // One after another: deletions of related resources (an agent and its schedules) stay ordered.
    for (const [index, r] of body.resources.entries()) {
      try {
        await deleters[r.type](env, user, r.id);
        items.push({ index, type: r.type, id: r.id, result: 'deleted' as DeleteOutcome });
      } catch (e) {
        const o = outcomeOf(e);
        items.push({ index, type: r.type, id: r.id, result: o.status as DeleteOutcome, error: o.error });
      }
    }
    return { atomic: false, deleted: items.filter((i) => i.result === 'deleted').length, items };
  }

  const checks = await mapLimited(body.resources, (r) => deletable(env, user, r.type, r.id));
  const refused = body.resources.map((r, i) => ({ ...r, check: checks[i] })).filter((r) => r.check !== 'ok');
  if (refused.length) {
    const named = refused.map((r) => `${r.type} ${r.id} (${r.check})`).join(', ');
    throw conflict(`Nothing was deleted: ${refused.length} of ${body.resources.length} resource(s) cannot be deleted: ${named}`);
  }

  const seen = new Set<string>();
  const statements: AnyStatement[] = [];
  const afterCommit: Array<() => Promise<void>> = [];
  /** Positions in the batch of the reads of deleted agents' session ids (their objects are cleared after). */
  const sessionReads: number[] = [];
  for (const r of body.resources) {
    const key = `${r.type}:${r.id.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (r.type === 'agent') {
      sessionReads.push(statements.push(sessionIdsStatement(env, r.id)) - 1);
      statements.push(...(await deleteAgentStatements(env, r.id)));
    }
    else if (r.type === 'workflow') statements.push(...deleteWorkflowStatements(env, r.id));
    else if (r.type === 'knowledge_base') {
      const deletion = await knowledgeBaseDeletion(env, await getKnowledgeBaseRow(env, user, r.id, 'admin'));
      statements.push(...deletion.statements);
      afterCommit.push(deletion.removeExternal);
    } else statements.push(deleteCustomToolStatement(env.DB, user.id, r.id));
  }
  const results = await runBatch(env.DB, statements);
  // A read answers rows (drizzle) or a D1Result (a raw statement, while its owner still hands those out).
  const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as D1Result).results) as Array<{ id: string }>;
  await destroyChatSessions(env, sessionReads.flatMap((i) => rowsOf(results[i]).map((row) => row.id)));
  for (const f of afterCommit) {
    try {
      await f();
    } catch (e) {
      console.error(JSON.stringify({ batch: 'delete', error: `external vectors not removed: ${String(e)}` }));
    }
  }
  const items = body.resources.map((r, index) => ({ index, type: r.type, id: r.id, result: 'deleted' as DeleteOutcome }));
  return { atomic: true, deleted: items.length, items };
}
