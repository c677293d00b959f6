import { z } from '@hono/zod-openapi';
import { orNull } from '../../../lib/schemas';
import { MODEL_PROVIDERS } from '../../../engine/llm/gateway';
import { PaginationQuery } from '../../../lib/pagination';
import { ChatMessageSchema } from '../agent-chat/schemas';
import { MULTITASK_STRATEGIES } from '../../../../durable-objects/contracts';

export const AGENT_STATUSES = ['draft', 'deployed', 'stopped'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const AgentModelConfigSchema = z
  .object({
    provider: z.enum(MODEL_PROVIDERS).optional(),
    model_name: z.string().trim().min(1).max(200).optional(),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.int().min(1).max(1_000_000).optional(),
    model_config_id: z.uuid().optional().meta({ description: 'A stored model config (its base URL and key are used)' }),
  })
  .openapi('AgentModelConfig', {
    description: 'Which model the agent uses; empty or absent: the owner’s default model config, else the system default',
  });

// Nodes and edges keep any extra keys (positions, per-node config) the designer stores.
const WorkflowNode = z.looseObject({
  id: z.string().trim().min(1).max(100),
  type: z.string().trim().min(1).max(50),
  label: z.string().max(200).optional(),
});
const WorkflowEdge = z.looseObject({
  source: z.string().min(1).max(100),
  target: z.string().min(1).max(100),
});

/** A workflow graph: unique node ids, edges between existing nodes, exactly one start node. */
export const WorkflowConfigSchema = z
  .looseObject({
    nodes: z.array(WorkflowNode).max(500),
    edges: z.array(WorkflowEdge).max(2000).default([]),
  })
  .superRefine((wf, ctx) => {
    const ids = new Set<string>();
    wf.nodes.forEach((node, i) => {
      if (ids.has(node.id)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'id'], message: `duplicate node id "${node.id}"` });
      ids.add(node.id);
    });
    wf.edges.forEach((edge, i) => {
      for (const end of ['source', 'target'] as const) {
        if (!ids.has(edge[end])) ctx.addIssue({ code: 'custom', path: ['edges', i, end], message: `no node with id "${edge[end]}"` });
      }
    });
    const starts = wf.nodes.filter((n) => n.type === 'start').length;
    if (starts !== 1) ctx.addIssue({ code: 'custom', path: ['nodes'], message: `a workflow needs exactly one start node, found ${starts}` });
  })
  .openapi('AgentWorkflowConfig');

const ToolRefs = z
  .array(z.string().trim().min(1).max(200))
  .max(100)
  .refine((refs) => new Set(refs).size === refs.length, 'tools must not repeat')
  .meta({ description: 'Builtin tool names or custom tool ids' });

const fields = {
  name: z.string().trim().min(1).max(100),
  description: z.string().max(2000),
  system_prompt: z.string().max(100_000),
  model_config: AgentModelConfigSchema.nullable(),
  iteration_limit: z.int().min(1).max(100),
  include_tools: ToolRefs,
  workflow_config: WorkflowConfigSchema.nullable(),
  multitask_strategy: z.enum(MULTITASK_STRATEGIES).meta({
    description: 'Extension (chat double-texting): what a message does while a turn of the same session is still running, unless the message names its own multitask_strategy (docs/agents.md)',
  }),
};

export const CreateAgentBody = z
  .object({
    name: fields.name.meta({ example: '智能体名称' }),
    description: fields.description.default(''),
    system_prompt: fields.system_prompt.default(''),
    model_config: fields.model_config.optional(),
    iteration_limit: fields.iteration_limit.default(15),
    include_tools: fields.include_tools.default([]),
    workflow_config: fields.workflow_config.optional(),
    multitask_strategy: fields.multitask_strategy.default('enqueue'),
  })
  .openapi('CreateAgentRequest');

/** Fields present replace the stored ones; absent ones are kept. */
export const UpdateAgentBody = z
  .object({
    name: fields.name.optional(),
    description: fields.description.optional(),
    system_prompt: fields.system_prompt.optional(),
    model_config: fields.model_config.optional(),
    iteration_limit: fields.iteration_limit.optional(),
    include_tools: fields.include_tools.optional(),
    workflow_config: fields.workflow_config.optional(),
    multitask_strategy: fields.multitask_strategy.optional(),
  })
  .openapi('UpdateAgentRequest');

export const AgentSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.string(),
    name: z.string(),
    description: z.string(),
    system_prompt: z.string(),
    model_config: orNull(AgentModelConfigSchema),
    iteration_limit: z.int(),
    include_tools: z.array(z.string()),
    workflow_config: z.record(z.string(), z.unknown()).nullable(),
    status: z.enum(AGENT_STATUSES),
    version: z.int(),
    is_main_agent: z.boolean(),
    sub_agent_ids: z.array(z.string()),
    multitask_strategy: fields.multitask_strategy,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Agent');

export const AgentListQuery = PaginationQuery.extend({
  search: z.string().trim().max(200).optional().meta({ description: 'Matches name and description' }),
  status: z.enum(AGENT_STATUSES).optional(),
});

export const CreateMainAgentBody = z
  .object({
    sub_agent_ids: z
      .array(z.uuid())
      .min(1)
      .max(20)
      .refine((ids) => new Set(ids).size === ids.length, 'sub-agents must not repeat'),
  })
  .openapi('CreateMainAgentRequest');

export const AGENT_EXPORT_FORMAT = 'tiangong.agent';
export const AGENT_EXPORT_VERSION = 1;

/** The portable definition: no ids, owners, secrets or references to the exporter's resources. */
export const AgentExportSchema = z
  .object({
    format: z.literal(AGENT_EXPORT_FORMAT),
    format_version: z.literal(AGENT_EXPORT_VERSION).meta({ description: 'Bumped when the document changes incompatibly' }),
    exported_at: z.string().optional(),
    agent: z.object({
      name: fields.name,
      description: fields.description.default(''),
      system_prompt: fields.system_prompt.default(''),
      model_config: AgentModelConfigSchema.omit({ model_config_id: true }).nullable().default(null),
      iteration_limit: fields.iteration_limit.default(15),
      include_tools: fields.include_tools.default([]),
      workflow_config: fields.workflow_config.default(null),
    }),
  })
  .openapi('AgentExport');


export { ChatMessageSchema };

export type Agent = z.infer<typeof AgentSchema>;
export type AgentModelConfig = z.infer<typeof AgentModelConfigSchema>;
export type CreateAgent = z.infer<typeof CreateAgentBody>;
export type UpdateAgent = z.infer<typeof UpdateAgentBody>;
export type AgentExport = z.infer<typeof AgentExportSchema>;
export type WorkflowConfig = z.infer<typeof WorkflowConfigSchema>;
