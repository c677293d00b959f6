import { marketSchemas } from '../markets/schemas';

export const AGENT_CATEGORIES = [
  { id: 'customer-service', name: 'Customer service' },
  { id: 'writing', name: 'Writing' },
  { id: 'coding', name: 'Coding' },
  { id: 'data-analysis', name: 'Data analysis' },
  { id: 'education', name: 'Education' },
  { id: 'productivity', name: 'Productivity' },
  { id: 'research', name: 'Research' },
  { id: 'marketing', name: 'Marketing' },
  { id: 'entertainment', name: 'Entertainment' },
  { id: 'other', name: 'Other' },
] as const;

export const schemas = marketSchemas('AgentMarket', AGENT_CATEGORIES.map((c) => c.id) as [string, ...string[]], 'agent_id');
