import type { AppRouter } from '../lib/router';
import { agentChatRouter } from './agents/agent-chat';
import { agentMarketRouter } from './marketplace/agent-market';
import { agentSchedulesRouter } from './workflows/agent-schedules';
import { batchRouter } from './workflows/batch';
import { webhooksRouter } from './workflows/webhooks';
import { agentsRouter } from './agents/agents';
import { apiKeysRouter } from './identity/api-keys';
import { approvalRouter } from './workflows/approval';
import { authRouter } from './identity/auth';
import { executionLogsRouter } from './workflows/execution-logs';
import { executionsRouter } from './workflows/executions';
import { feishuRouter } from './integrations/feishu';
import { dataSourcesRouter } from './knowledge/data-sources';
import { goalsRouter } from './goals/goals';
import { mcpRouter } from './integrations/mcp';
import { modelConfigsRouter } from './agents/model-configs';
import { nodeTemplatesRouter } from './workflows/node-templates';
import { nodesRouter } from './workflows/nodes';
import { notificationsRouter } from './goals/notifications';
import { openaiRouter } from './integrations/openai';
import { orchestrationTemplatesRouter } from './marketplace/orchestration-templates';
import { platformRouter } from './marketplace/platform';
import { pluginsRouter } from './marketplace/plugins';
import { templateMarketRouter } from './marketplace/template-market';
import { permissionsRouter } from './identity/permissions';
import { auditLogsRouter } from './governance/audit-logs';
import { systemLogsRouter } from './governance/system-logs';
import { monitoringRouter } from './governance/monitoring';
import { agentMonitoringRouter } from './governance/agent-monitoring';
import { alertRulesRouter } from './governance/alert-rules';
import { feedbackRouter } from './governance/feedback';
import { evalsRouter } from './governance/evals';
import { collaborationRouter } from './governance/collaboration';
import { swarmRouter } from './goals/swarm';
import { tasksRouter } from './goals/tasks';
import { toolsRouter } from './agents/tools';
import { knowledgeBasesRouter } from './knowledge/knowledge-bases';
import { uploadsRouter } from './knowledge/uploads';
import { workflowsRouter } from './workflows/workflows';
import { wsRouter } from './workflows/ws';

/** Every module router, mounted under `/api/v1` + its prefix. */
export const modules: Array<[prefix: string, router: AppRouter]> = [
  ['/auth', authRouter],
  ['/agents', agentsRouter],
  ['/agent-chat', agentChatRouter],
  ['/model-configs', modelConfigsRouter],
  ['/api-keys', apiKeysRouter],
  ['/goals', goalsRouter],
  ['/tasks', tasksRouter],
  ['/swarm', swarmRouter],
  ['/notifications', notificationsRouter],
  ['/tools', toolsRouter],
  ['/openai', openaiRouter],
  ['/mcp', mcpRouter],
  ['/knowledge-bases', knowledgeBasesRouter],
  ['/uploads', uploadsRouter],
  ['/workflows', workflowsRouter],
  ['/executions', executionsRouter],
  ['/execution-logs', executionLogsRouter],
  ['/nodes', nodesRouter],
  ['/node-templates', nodeTemplatesRouter],
  ['/approval', approvalRouter],
  ['/ws', wsRouter],
  ['/feishu', feishuRouter],
  ['/agent-schedules', agentSchedulesRouter],
  ['/webhooks', webhooksRouter],
  ['/batch', batchRouter],
  ['/data-sources', dataSourcesRouter],
  ['/agent-market', agentMarketRouter],
  ['/plugins', pluginsRouter],
  ['/orchestration-templates', orchestrationTemplatesRouter],
  ['/platform', platformRouter],
  ['/template-market', templateMarketRouter],
  ['/permissions', permissionsRouter],
  ['/audit-logs', auditLogsRouter],
  ['/system-logs', systemLogsRouter],
  ['/monitoring', monitoringRouter],
  ['/agent-monitoring', agentMonitoringRouter],
  ['/alert-rules', alertRulesRouter],
  ['/feedback', feedbackRouter],
  ['/evals', evalsRouter],
  ['/collaboration', collaborationRouter],
];
