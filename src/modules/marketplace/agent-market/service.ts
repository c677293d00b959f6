import { z } from '@hono/zod-openapi';
import { deleteAgent, exportAgent, getAgent, importAgent, loadAgent, updateAgent } from '../../agents/agents/service';
import { AgentExportSchema } from '../../agents/agents/schemas';
import { validationError } from '../../../lib/errors';
import { describeZodError } from '../../../lib/router';
import { Market, type MarketKind } from '../markets/core';
import { AGENT_CATEGORIES } from './schemas';

// A snapshot read back is checked again: the export format is the contract between publisher and installer.
function parseExport(content: Record<string, unknown>) {
  const parsed = AgentExportSchema.safeParse(content);
  if (!parsed.success) throw validationError(describeZodError('content', parsed.error as z.ZodError));
  return parsed.data;
}

/**
 * Agents in the market travel as `tiangong.agent` exports: builtin tools only, the model by
 * provider and name (never a model config id or key), no sub-agents. Installing is importing.
 */
export const agentKind: MarketKind = {
  kind: 'agent',
  noun: 'agent',
  categories: AGENT_CATEGORIES,
  async snapshot(env, user, sourceId) {
    const agent = await getAgent(env, user, sourceId);
    // Publishing is the owner's act; an admin seeing an agent does not make it theirs to publish.
    if (agent.owner_id !== user.id) throw validationError('body.agent_id: only your own agents can be published');
    const doc = await exportAgent(env, user, sourceId);
    const { exported_at: _ignored, ...content } = doc;
    return { name: agent.name, description: agent.description, content };
  },
  async install(env, user, content) {
    return (await importAgent(env, user, parseExport(content))).id;
  },
  async upgrade(env, user, resourceId, content) {
    const { agent } = parseExport(content);
    await updateAgent(env, user, resourceId, {
      name: agent.name,
      description: agent.description,
      system_prompt: agent.system_prompt,
      model_config: agent.model_config,
      iteration_limit: agent.iteration_limit,
      include_tools: agent.include_tools,
      workflow_config: agent.workflow_config,
    });
  },
  async remove(env, user, resourceId) {
    await deleteAgent(env, user, resourceId);
  },
  async exists(env, user, resourceId) {
    const agent = await loadAgent(env, resourceId);
    return agent !== null && agent.owner_id === user.id;
  },
};

export const agentMarket = new Market(agentKind);
