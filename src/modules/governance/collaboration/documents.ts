import { registerDocumentType, type DocumentAdapter } from '../../../runs/collab-documents';
import { validationError } from '../../../lib/errors';
import { describeZodError } from '../../../lib/router';

/**
 * The document adapters of the collaboration rooms (src/runs/collab-documents.ts), registered
 * when this module is imported: each saves through the module's own versioned update, so saving
 * is authorised, validated and versioned like any other write. The agents and workflows services
 * and schemas are imported on a room's first load or save, not at startup (every isolate registers
 * the adapters).
 */

const AGENT_FIELDS = ['name', 'description', 'system_prompt', 'model_config', 'iteration_limit', 'include_tools', 'workflow_config'] as const;

const agentAdapter: DocumentAdapter = {
  fields: AGENT_FIELDS,
  async load(env, id) {
    const { loadAgent } = await import('../../agents/agents/service');
    const agent = await loadAgent(env, id);
    if (!agent) return null;
    return { document: Object.fromEntries(AGENT_FIELDS.map((f) => [f, agent[f]])), version: agent.version };
  },
  async save(env, user, id, document) {
    const [{ UpdateAgentBody }, { updateAgent }] = await Promise.all([import('../../agents/agents/schemas'), import('../../agents/agents/service')]);
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
    const { findWorkflowDocument } = await import('../../workflows/workflows/store');
    const row = await findWorkflowDocument(env.DB, id);
    if (!row) return null;
    return { document: { name: row.name, description: row.description, graph: JSON.parse(row.graph), inputs_schema: JSON.parse(row.inputsSchema) }, version: row.version };
  },
  async save(env, user, id, document) {
    const [{ UpdateWorkflowBody }, { updateWorkflow }] = await Promise.all([import('../../workflows/workflows/schemas'), import('../../workflows/workflows/service')]);
    const parsed = UpdateWorkflowBody.safeParse({ ...document, note: 'saved from a collaboration room' });
    if (!parsed.success) throw validationError(describeZodError('document', parsed.error));
    const workflow = await updateWorkflow(env, user, id, parsed.data);
    return { version: workflow.version };
  },
};

registerDocumentType('agent', agentAdapter);
registerDocumentType('workflow', workflowAdapter);
