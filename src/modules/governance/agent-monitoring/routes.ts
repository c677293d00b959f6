import { createRoute } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonContent } from '../../../lib/schemas';
import {
  AgentMonitoringQuery,
  AgentOverviewSchema,
  AgentStatsItem,
  AgentStatsQuery,
  DailyTrendQuery,
  DailyTrendSchema,
  LlmCallStatsQuery,
  LlmCallStatsSchema,
  ToolUsageSchema,
} from './schemas';

const tags = ['agent-monitoring'];
const failures = errors(401, 404, 422);

export const overview = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/overview',
  summary: 'Agent monitoring overview: model calls, errors, tokens, latency p50/p95, active agents, tool calls, feedback',
  request: { query: AgentMonitoringQuery },
  responses: { 200: jsonContent(AgentOverviewSchema, 'The overview'), ...failures },
});

export const llmCalls = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/llm-calls',
  summary: 'Model-call statistics per provider and model: count, tokens, latency p50/p95, error rate',
  request: { query: LlmCallStatsQuery },
  responses: { 200: jsonContent(LlmCallStatsSchema, 'Per provider and model'), ...failures },
});

export const agentsStats = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/agents-stats',
  summary: 'Per-agent statistics: calls, errors, tokens, latency p50/p95, feedback; busiest first',
  request: { query: AgentStatsQuery },
  responses: { 200: jsonContent(paginatedSchema(AgentStatsItem, 'AgentStatsList'), 'A page of agents'), ...failures },
});

export const toolUsage = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/tool-usage',
  summary: 'Tool usage: calls, failures, duration p50/p95 per tool',
  request: { query: AgentMonitoringQuery },
  responses: { 200: jsonContent(ToolUsageSchema, 'Per tool'), ...failures },
});

export const dailyTrend = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/daily-trend',
  summary: 'Daily trend over the last N days: model calls, errors, tokens, latency, tool calls, executions',
  request: { query: DailyTrendQuery },
  responses: { 200: jsonContent(DailyTrendSchema, 'One row per day, oldest first'), ...failures },
});
