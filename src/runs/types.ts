/**
 * The agent as a turn needs it (the ChatSession actor gets it in a TurnRequest). A leaf file: it
 * imports nothing, so durable-objects/contracts.ts (imported by src/env.ts) may use it. The API's
 * `Agent` (modules/agents/agents/schemas.ts) is assignable to it.
 */
export interface TurnAgent {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  system_prompt: string;
  model_config: {
    provider?: string;
    model_name?: string;
    temperature?: number;
    max_tokens?: number;
    model_config_id?: string;
  } | null;
  iteration_limit: number;
  include_tools: string[];
  workflow_config: Record<string, unknown> | null;
  status: 'draft' | 'deployed' | 'stopped';
  version: number;
  is_main_agent: boolean;
  sub_agent_ids: string[];
  /** Chat double-texting: what a message does while a turn of the same session runs (a message may say otherwise). */
  multitask_strategy: 'reject' | 'enqueue' | 'interrupt' | 'rollback';
  created_at: string;
  updated_at: string;
}
