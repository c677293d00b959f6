/**
 * Scenario templates: what quick-create makes for each — an agent, a knowledge base and a
 * workflow that fit together. Tools are builtin names; workflow graphs use the workflow engine's
 * node types (start, template, llm, end).
 */
export interface Scenario {
  id: string;
  name: string;
  category: 'customer-service' | 'knowledge' | 'data' | 'integration' | 'content';
  description: string;
  agent: { name: string; description: string; system_prompt: string; include_tools: string[]; iteration_limit: number };
  knowledge_base: { name: string; description: string };
  workflow: { name: string; description: string; inputs_schema: Array<{ name: string; type: string; required: boolean; description?: string }>; graph: { nodes: unknown[]; edges: unknown[] } };
}

const llmFlow = (system: string, input: string, output = 'answer') => ({
  inputs_schema: [{ name: input, type: 'string', required: true }],
  graph: {
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'llm', type: 'llm', config: { system_prompt: system, prompt: `{{inputs.${input}}}` } },
      { id: 'end', type: 'end', config: { outputs: { [output]: '{{llm.text}}' } } },
    ],
    edges: [
      { source: 'start', target: 'llm' },
      { source: 'llm', target: 'end' },
    ],
  },
});

export const SCENARIO_CATEGORIES = [
  { id: 'customer-service', name: 'Customer service' },
  { id: 'knowledge', name: 'Knowledge' },
  { id: 'data', name: 'Data' },
  { id: 'integration', name: 'Integration' },
  { id: 'content', name: 'Content' },
] as const;

export const scenarios: Scenario[] = [
  {
    id: 'customer-service-bot',
    name: 'Customer-service bot',
    category: 'customer-service',
    description: 'Answers customers from your FAQ and policies, and drafts ticket replies.',
    agent: {
      name: 'Customer service',
      description: 'Answers customer questions politely from the knowledge base',
      system_prompt: 'You are a friendly customer-service agent. Answer from the company knowledge base; when you do not know, say so and offer to open a ticket.',
      include_tools: ['current_time', 'text_count'],
      iteration_limit: 8,
    },
    knowledge_base: { name: 'Customer-service FAQ', description: 'FAQ, return policy, shipping and warranty documents' },
    workflow: { name: 'Ticket reply draft', description: 'Drafts a reply to a support ticket', ...llmFlow('Draft a short, polite reply to this support ticket.', 'ticket', 'reply') },
  },
  {
    id: 'knowledge-qa',
    name: 'Knowledge Q&A',
    category: 'knowledge',
    description: 'Grounded question answering over your documents, with citations.',
    agent: {
      name: 'Knowledge assistant',
      description: 'Answers questions from the documents in its knowledge base',
      system_prompt: 'Answer only from the retrieved passages and cite the document titles. If the passages do not contain the answer, say so.',
      include_tools: ['text_split'],
      iteration_limit: 6,
    },
    knowledge_base: { name: 'Team documents', description: 'Handbooks, specifications and meeting notes' },
    workflow: { name: 'Grounded answer', description: 'Answers a question from given context', ...llmFlow('Answer from the context in the question only.', 'question') },
  },
  {
    id: 'data-analyst',
    name: 'Data analyst',
    category: 'data',
    description: 'Explores CSV/JSON data, computes statistics and explains the results.',
    agent: {
      name: 'Data analyst',
      description: 'Computes statistics and explains data',
      system_prompt: 'You are a careful data analyst. Use the tools to compute; never guess numbers. Explain results in plain language.',
      include_tools: ['calculator', 'statistics', 'csv_to_json', 'json_path'],
      iteration_limit: 12,
    },
    knowledge_base: { name: 'Data dictionary', description: 'What each table and column means' },
    workflow: { name: 'Explain a result', description: 'Turns numbers into a short explanation', ...llmFlow('Explain these analysis results for a business reader in three sentences.', 'results', 'explanation') },
  },
  {
    id: 'feishu-assistant',
    name: 'Feishu assistant',
    category: 'integration',
    description: 'A team assistant for Feishu chats: answers, summarises threads and schedules.',
    agent: {
      name: 'Feishu assistant',
      description: 'Answers in team chats and summarises threads',
      system_prompt: 'You are a concise team assistant in Feishu group chats. Keep answers short; summarise long threads into bullet points.',
      include_tools: ['current_time', 'timezone_convert', 'date_add'],
      iteration_limit: 8,
    },
    knowledge_base: { name: 'Team wiki', description: 'The team’s wiki pages and decisions' },
    workflow: { name: 'Thread summary', description: 'Summarises a chat thread', ...llmFlow('Summarise this chat thread into at most five bullet points.', 'thread', 'summary') },
  },
  {
    id: 'content-writer',
    name: 'Content writer',
    category: 'content',
    description: 'Drafts articles and posts in your brand voice from your style guide.',
    agent: {
      name: 'Content writer',
      description: 'Writes in the brand voice',
      system_prompt: 'Write clear, engaging content following the brand style guide in the knowledge base.',
      include_tools: ['text_count', 'markdown_to_html'],
      iteration_limit: 6,
    },
    knowledge_base: { name: 'Brand style guide', description: 'Voice, tone and vocabulary rules' },
    workflow: { name: 'Outline to draft', description: 'Expands an outline into a draft', ...llmFlow('Expand this outline into a first draft.', 'outline', 'draft') },
  },
];

export const findScenario = (id: string) => scenarios.find((s) => s.id === id);
