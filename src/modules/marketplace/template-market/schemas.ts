import { marketSchemas } from '../markets/schemas';

export const TEMPLATE_CATEGORIES = [
  { id: 'automation', name: 'Automation' },
  { id: 'rag', name: 'Knowledge & RAG' },
  { id: 'routing', name: 'Routing & triage' },
  { id: 'content', name: 'Content' },
  { id: 'data-processing', name: 'Data processing' },
  { id: 'customer-service', name: 'Customer service' },
  { id: 'devops', name: 'DevOps' },
  { id: 'other', name: 'Other' },
] as const;

export const schemas = marketSchemas('TemplateMarket', TEMPLATE_CATEGORIES.map((c) => c.id) as [string, ...string[]], 'workflow_id');
