import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';
import { TimeRangeQuery } from '../../../lib/time-range';

const Scope = z.enum(['all', 'own']);
const Range = { scope: Scope, from: z.string(), to: z.string() };
const Latency = { avg_latency_ms: z.number().nullable(), p50_latency_ms: z.number().nullable(), p95_latency_ms: z.number().nullable() };

export const AgentMonitoringQuery = TimeRangeQuery.extend({ agent_id: z.string().min(1).optional() });

export const AgentOverviewSchema = z
  .object({
    ...Range,
    llm_calls: z.int(),
    errors: z.int(),
    error_rate: z.number(),
    prompt_tokens: z.int(),
    completion_tokens: z.int(),
    total_tokens: z.int(),
    ...Latency,
    active_agents: z.int().meta({ description: 'Agents with model calls in the range' }),
    tool_calls: z.object({ total: z.int(), failed: z.int() }).nullable().meta({ description: 'null until the tools module records tool_usage' }),
    feedback: z.object({ positive: z.int(), negative: z.int(), satisfaction: z.number().nullable() }),
  })
  .openapi('AgentMonitoringOverview');

export const LlmCallStatsQuery = AgentMonitoringQuery.extend({ provider: z.string().trim().min(1).max(50).optional() });

export const LlmCallStatsSchema = z
  .object({
    ...Range,
    items: z.array(
      z.object({
        provider: z.string(),
        model: z.string(),
        calls: z.int(),
        errors: z.int(),
        error_rate: z.number(),
        prompt_tokens: z.int(),
        completion_tokens: z.int(),
        total_tokens: z.int(),
        ...Latency,
      }),
    ),
  })
  .openapi('LlmCallStats');

export const AgentStatsQuery = PaginationQuery.extend(TimeRangeQuery.shape);

export const AgentStatsItem = z
  .object({
    agent_id: z.string(),
    name: z.string().nullable().meta({ description: 'null when the agent was deleted' }),
    calls: z.int(),
    errors: z.int(),
    error_rate: z.number(),
    total_tokens: z.int(),
    ...Latency,
    last_call_at: z.string().nullable(),
    feedback_positive: z.int(),
    feedback_negative: z.int(),
  })
  .openapi('AgentStats');

export const ToolUsageSchema = z
  .object({
    ...Range,
    available: z.boolean().meta({ description: 'false until the tools module records tool_usage' }),
    items: z.array(
      z.object({
        tool_name: z.string(),
        tool_type: z.string(),
        calls: z.int(),
        failed: z.int(),
        error_rate: z.number(),
        avg_ms: z.number().nullable(),
        p50_ms: z.number().nullable(),
        p95_ms: z.number().nullable(),
      }),
    ),
  })
  .openapi('ToolUsageStats');

export const DailyTrendQuery = z.object({
  days: z.coerce.number().int().min(1).max(90).default(7).meta({ description: 'The last N days (UTC), today included' }),
  agent_id: z.string().min(1).optional(),
});

export const DailyTrendSchema = z
  .object({
    scope: Scope,
    days: z.int(),
    items: z.array(
      z.object({
        date: z.string(),
        llm_calls: z.int(),
        errors: z.int(),
        total_tokens: z.int(),
        avg_latency_ms: z.number().nullable(),
        p95_latency_ms: z.number().nullable(),
        tool_calls: z.int().nullable(),
        executions: z.int(),
      }),
    ),
  })
  .openapi('DailyTrend');
