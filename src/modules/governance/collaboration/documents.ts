import type { Env } from '../../../env';
import type { CollabType } from '../../../../durable-objects/contracts';
import type { AuthUser } from '../../../lib/auth';
import { tableExists } from '../../../lib/d1';
import { notFound, validationError } from '../../../lib/errors';
import { describeZodError } from '../../../lib/router';
import { UpdateAgentBody } from '../../agents/agents/schemas';
import { loadAgent, updateAgent } from '../../agents/agents/service';
import { UpdateWorkflowBody } from '../../workflows/workflows/schemas';
import { updateWorkflow } from '../../workflows/workflows/service';

/**
 * What a collaboration room edits, per resource type: the editable fields of the resource as
 * one JSON document (`load`), and how the room's document is saved — through the module's own
 * versioned update, so saving is authorised, validated and versioned like any other write.
 */

export type CollabDocument = Record<string, unknown>;

interface DocumentAdapter {
  fields: readonly string[];
  load(env: Env, id: string): Promise<{ document: CollabDocument; version: number } | null>;
  save(env: Env, user: AuthUser, id: string, document: CollabDocument): Promise<{ version: number }>;
}

const AGENT_FIELDS = ['name', 'description', 'system_prompt', 'model_config', 'iteration_limit', 'include_tools', 'workflow_config'] as const;

const agentAdapter: DocumentAdapter = {
  fields: AGENT_FIELDS,
  async load(env, id) {
    const agent = await loadAgent(env, id);
    if (!agent) return null;
    return { document: Object.fromEntries(AGENT_FIELDS.map((f) => [f, agent[f]])), version: agent.version };
  },
  async save(env, user, id, document) {
    const parsed = UpdateAgentBody.safeParse(document);
    if (!parsed.success) throw validationError(describeZodError('document', parsed.error));
    const agent = await updateAgent(env, user, id, parsed.data);
    return { version: agent.version };
  },
};

const WORKFLOW_FIELDS = ['name', 'description', 'graph', 'inputs_schema'] as const;

const workflowAdapter: DocumentAdapter = {
  fields: WORKFLOW_FIELDS,
  async load(env, id) {
    if (!(await tableExists(env.DB, 'workflows'))) return null;
    const row = await env.DB.prepare('SELECT name, description, graph, inputs_schema, version FROM workflows WHERE id = ?')
      .bind(id)
      .first<{ name: string; description: string; graph: string; inputs_schema: string; version: number }>();
    if (!row) return null;
    return { document: { name: row.name, description: row.description, graph: JSON.parse(row.graph), inputs_schema: JSON.parse(row.inputs_schema) }, version: row.version };
  },
  async save(env, user, id, document) {
    const parsed = UpdateWorkflowBody.safeParse({ ...document, note: 'saved from a collaboration room' });
    if (!parsed.success) throw validationError(describeZodError('document', parsed.error));
    const workflow = await updateWorkflow(env, user, id, parsed.data);
    return { version: workflow.version };
  },
};

export const adapters: Record<CollabType, DocumentAdapter> = { agent: agentAdapter, workflow: workflowAdapter };

export async function loadDocument(env: Env, type: CollabType, id: string) {
  const loaded = await adapters[type].load(env, id);
  if (!loaded) throw notFound(type === 'agent' ? 'Agent' : 'Workflow');
  return loaded;
}
