import type { AppRouter } from '../lib/router';
import { agentChatRouter } from './agent-chat';
import { agentMarketRouter } from './agent-market';
import { agentSchedulesRouter } from './agent-schedules';
import { batchRouter } from './batch';
import { webhooksRouter } from './webhooks';
import { agentsRouter } from './agents';
import { apiKeysRouter } from './api-keys';
import { approvalRouter } from './approval';
import { authRouter } from './auth';
import { executionLogsRouter } from './execution-logs';
import { executionsRouter } from './executions';
import { feishuRouter } from './feishu';
import { dataSourcesRouter } from './data-sources';
import { goalsRouter } from './goals';
import { mcpRouter } from './mcp';
import { modelConfigsRouter } from './model-configs';
import { nodeTemplatesRouter } from './node-templates';
import { nodesRouter } from './nodes';
import { notificationsRouter } from './notifications';
import { openaiRouter } from './openai';
import { orchestrationTemplatesRouter } from './orchestration-templates';
import { platformRouter } from './platform';
import { pluginsRouter } from './plugins';
import { templateMarketRouter } from './template-market';
import { permissionsRouter } from './permissions';
import { auditLogsRouter } from './audit-logs';
import { systemLogsRouter } from './system-logs';
import { monitoringRouter } from './monitoring';
import { agentMonitoringRouter } from './agent-monitoring';
import { alertRulesRouter } from './alert-rules';
import { feedbackRouter } from './feedback';
import { collaborationRouter } from './collaboration';
import { swarmRouter } from './swarm';
import { tasksRouter } from './tasks';
import { toolsRouter } from './tools';
import { knowledgeBasesRouter } from './knowledge-bases';
import { uploadsRouter } from './uploads';
import { workflowsRouter } from './workflows';
import { wsRouter } from './ws';

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
  ['/collaboration', collaborationRouter],
];
