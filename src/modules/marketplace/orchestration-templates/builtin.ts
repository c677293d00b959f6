import type { Template } from './schemas';

const USAGE = 'POST /api/v1/agent-chat/orchestrate with {"template_id": <id>, "roles": {<role key>: <agent id>, ...}, "message": ...}';

type Builtin = Omit<Template, 'owner_id' | 'builtin' | 'usage' | 'created_at' | 'updated_at'>;

/** The platform's multi-agent patterns; fixed ids so clients can name them. */
const BUILTIN: Builtin[] = [
  {
    id: '0b6f1d3e-5a1c-4c1e-9f00-000000000001',
    name: 'Sequential pipeline',
    description: 'Research, then write, then edit: each agent works on the previous one’s output.',
    mode: 'sequential',
    roles: [
      { key: 'researcher', name: 'Researcher', description: 'Collects the facts the task needs' },
      { key: 'writer', name: 'Writer', description: 'Drafts the answer from the research' },
      { key: 'editor', name: 'Editor', description: 'Tightens and corrects the draft' },
    ],
    steps: ['researcher', 'writer', 'editor'],
    rounds: null,
    edges: null,
  },
  {
    id: '0b6f1d3e-5a1c-4c1e-9f00-000000000002',
    name: 'Debate',
    description: 'Two agents argue for two rounds; the first one summarises the outcome.',
    mode: 'debate',
    roles: [
      { key: 'proponent', name: 'Proponent', description: 'Argues for' },
      { key: 'opponent', name: 'Opponent', description: 'Argues against' },
    ],
    steps: null,
    rounds: 2,
    edges: null,
  },
  {
    id: '0b6f1d3e-5a1c-4c1e-9f00-000000000003',
    name: 'Router triage',
    description: 'One specialist answers each message: billing, technical or general support.',
    mode: 'route',
    roles: [
      { key: 'billing', name: 'Billing', description: 'Invoices, payments, refunds' },
      { key: 'technical', name: 'Technical', description: 'Errors, set-up, how-to' },
      { key: 'general', name: 'General', description: 'Everything else' },
    ],
    steps: null,
    rounds: null,
    edges: null,
  },
  {
    id: '0b6f1d3e-5a1c-4c1e-9f00-000000000004',
    name: 'Fan-out and merge',
    description: 'A planner splits the work, two analysts work in parallel, a merger combines their results.',
    mode: 'graph',
    roles: [
      { key: 'planner', name: 'Planner', description: 'Splits the task into two independent parts' },
      { key: 'analyst_a', name: 'Analyst A', description: 'Works on the first part' },
      { key: 'analyst_b', name: 'Analyst B', description: 'Works on the second part' },
      { key: 'merger', name: 'Merger', description: 'Combines both analyses into one answer' },
    ],
    steps: null,
    rounds: null,
    edges: [
      { source: 'planner', target: 'analyst_a' },
      { source: 'planner', target: 'analyst_b' },
      { source: 'analyst_a', target: 'merger' },
      { source: 'analyst_b', target: 'merger' },
    ],
  },
  {
    id: '0b6f1d3e-5a1c-4c1e-9f00-000000000005',
    name: 'Reviewer loop',
    description: 'An author drafts, a reviewer critiques, the author revises — twice — then the final version.',
    mode: 'sequential',
    roles: [
      { key: 'author', name: 'Author', description: 'Writes and revises' },
      { key: 'reviewer', name: 'Reviewer', description: 'Points out what to improve' },
    ],
    steps: ['author', 'reviewer', 'author', 'reviewer', 'author'],
    rounds: null,
    edges: null,
  },
];

export const builtinTemplates: Template[] = BUILTIN.map((t) => ({ ...t, owner_id: null, builtin: true, usage: USAGE, created_at: null, updated_at: null }));
export const findBuiltinTemplate = (id: string) => builtinTemplates.find((t) => t.id === id.toLowerCase());
export { USAGE };
