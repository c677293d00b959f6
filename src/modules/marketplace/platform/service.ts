import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { requirePermission } from '../../identity/permissions/authorize';
import { notFound } from '../../../lib/errors';
import { runBatch } from '../../../db/client';
import { agentInsertStatements, loadAgent, resolveToolRefs } from '../../agents/agents/service';
import { knowledgeBaseInsert } from '../../knowledge/knowledge-bases/service';
import { workflowInsertStatements } from '../../workflows/workflows/service';
import type { Graph, InputDef } from '../../../engine/workflow/types';
import { findScenario, SCENARIO_CATEGORIES, scenarios, type Scenario } from './scenarios';

export function listScenarios(q: { category?: string; search?: string }) {
  const term = q.search?.toLowerCase();
  const items = scenarios.filter(
    (s) => (!q.category || s.category === q.category) && (!term || s.name.toLowerCase().includes(term) || s.description.toLowerCase().includes(term)),
  );
  return { items };
}

export function scenarioCategories() {
  return { items: SCENARIO_CATEGORIES.map((c) => ({ id: c.id, name: c.name, count: scenarios.filter((s) => s.category === c.id).length })) };
}

export function getScenario(id: string): Scenario {
  const scenario = findScenario(id);
  if (!scenario) throw notFound('Scenario');
  return scenario;
}

/**
 * Creates the scenario's agent, knowledge base and workflow in one D1 batch: all three exist
 * afterwards or none does. The agent's prompt names its knowledge base and workflow.
 */
export async function quickCreate(env: Env, user: AuthUser, id: string, body: { name?: string; system_prompt?: string }) {
  const scenario = getScenario(id);
  // It creates one of each: the caller's roles must allow creating all three (viewers cannot).
  await Promise.all(['agent:create', 'knowledge_base:create', 'workflow:create'].map((permission) => requirePermission(env, user, permission)));
  const named = (n: string) => (body.name ? `${body.name} · ${n}` : n).slice(0, 100);
  await resolveToolRefs(env, user.id, scenario.agent.include_tools, 'scenario.agent.include_tools');
  const kb = await knowledgeBaseInsert(env, user, { name: named(scenario.knowledge_base.name), description: scenario.knowledge_base.description });
  const wf = workflowInsertStatements(env, user, {
    name: named(scenario.workflow.name),
    description: scenario.workflow.description,
    graph: scenario.workflow.graph as unknown as Graph,
    inputs_schema: scenario.workflow.inputs_schema as InputDef[],
    status: 'draft',
    note: `quick-create: ${scenario.id}`,
  });
  const prompt = body.system_prompt ?? scenario.agent.system_prompt;
  const agent = agentInsertStatements(env, user.id, {
    name: named(scenario.agent.name),
    description: scenario.agent.description,
    system_prompt: `${prompt}\n\nKnowledge base: ${kb.id}. Workflow: ${wf.id}.`,
    model_config: null,
    iteration_limit: scenario.agent.iteration_limit,
    include_tools: scenario.agent.include_tools,
    workflow_config: null,
    is_main_agent: false,
    sub_agent_ids: [],
  });
  await runBatch(env.DB, [...agent.statements, kb.statement, ...wf.statements]);
  return {
    scenario_id: scenario.id,
    agent: (await loadAgent(env, agent.id))!,
    knowledge_base: { id: kb.id, name: named(scenario.knowledge_base.name), description: scenario.knowledge_base.description },
    workflow: { id: wf.id, name: named(scenario.workflow.name), description: scenario.workflow.description, version: 1 },
  };
}
