import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

export const TEMPLATE_MODES = ['sequential', 'route', 'debate', 'graph'] as const;

const RoleKey = z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, 'role keys are lowercase letters, digits and _');
const Role = z.object({
  key: RoleKey,
  name: z.string().trim().min(1).max(100),
  description: z.string().max(1000).default('').meta({ description: 'What the agent in this role should do (shown when assigning agents)' }),
});

const fields = {
  name: z.string().trim().min(1).max(100),
  description: z.string().max(2000),
  mode: z.enum(TEMPLATE_MODES),
  roles: z.array(Role).min(1).max(10),
  steps: z.array(RoleKey).min(1).max(20).optional().meta({ description: 'sequential: the order of roles (a role may come back, e.g. author → reviewer → author); default: the roles in order' }),
  rounds: z.int().min(1).max(5).optional().meta({ description: 'debate: rounds before the summary' }),
  edges: z.array(z.object({ source: RoleKey, target: RoleKey })).max(100).optional().meta({ description: 'graph: edges between roles (a DAG)' }),
};

export const CreateTemplateBody = z
  .object({ ...fields, description: fields.description.default('') })
  .openapi('CreateOrchestrationTemplateRequest');

export const UpdateTemplateBody = z
  .object({
    name: fields.name.optional(),
    description: fields.description.optional(),
    mode: fields.mode.optional(),
    roles: fields.roles.optional(),
    steps: fields.steps.nullable(),
    rounds: fields.rounds.nullable(),
    edges: fields.edges.nullable(),
  })
  .partial()
  .openapi('UpdateOrchestrationTemplateRequest');

export const TemplateSchema = z
  .object({
    id: z.uuid(),
    owner_id: z.string().nullable().meta({ description: 'null for builtin templates' }),
    builtin: z.boolean(),
    name: z.string(),
    description: z.string(),
    mode: z.enum(TEMPLATE_MODES),
    roles: z.array(z.object({ key: z.string(), name: z.string(), description: z.string() })),
    steps: z.array(z.string()).nullable(),
    rounds: z.int().nullable(),
    edges: z.array(z.object({ source: z.string(), target: z.string() })).nullable(),
    usage: z.string().meta({ description: 'How to run it: POST /agent-chat/orchestrate with template_id and an agent for each role' }),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi('OrchestrationTemplate');

export const TemplateListQuery = PaginationQuery.extend({
  mode: z.enum(TEMPLATE_MODES).optional(),
  scope: z.enum(['all', 'builtin', 'mine']).default('all'),
});

export type Template = z.infer<typeof TemplateSchema>;
export type CreateTemplate = z.infer<typeof CreateTemplateBody>;
