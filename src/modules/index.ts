import type { AppRouter } from '../lib/router';
// What modules register with the engine and the runs layer (tools, node types, seams) is in place
// from startup, whichever router is built: every isolate (a Durable Object's too) sees it all.
import './agents/agents/tool';
import './integrations/feishu/tool';
import './agents/model-configs/call-writer';
import './goals/notifications/tool';
import './marketplace/plugins/tool-provider';
import './governance/collaboration/documents';
import './goals/tasks/tool';
import './agents/tools/tool-host';
import './knowledge/knowledge-bases/tool';
import './knowledge/knowledge-bases/nodes';
import './workflows/workflows/tool';

/**
 * Every module, mounted under `/api/v1` + its prefix, and how to build its router. A router (its zod
 * schemas, handlers, services) is imported on the first request under its prefix, not at startup:
 * esbuild makes each dynamically imported file a lazily initialised one in the bundle (src/app.ts
 * mounts the routes from route-table.ts meanwhile).
 */
export const modules: Array<[prefix: string, load: () => Promise<AppRouter>]> = [
  ['/auth', () => import('./identity/auth').then((m) => m.authRouter)],
  ['/agents', () => import('./agents/agents').then((m) => m.agentsRouter)],
  ['/agent-chat', () => import('./agents/agent-chat').then((m) => m.agentChatRouter)],
  ['/model-configs', () => import('./agents/model-configs').then((m) => m.modelConfigsRouter)],
  ['/api-keys', () => import('./identity/api-keys').then((m) => m.apiKeysRouter)],
  ['/goals', () => import('./goals/goals').then((m) => m.goalsRouter)],
  ['/tasks', () => import('./goals/tasks').then((m) => m.tasksRouter)],
  ['/swarm', () => import('./goals/swarm').then((m) => m.swarmRouter)],
  ['/notifications', () => import('./goals/notifications').then((m) => m.notificationsRouter)],
  ['/tools', () => import('./agents/tools').then((m) => m.toolsRouter)],
  ['/openai', () => import('./integrations/openai').then((m) => m.openaiRouter)],
  ['/mcp', () => import('./integrations/mcp').then((m) => m.mcpRouter)],
  ['/knowledge-bases', () => import('./knowledge/knowledge-bases').then((m) => m.knowledgeBasesRouter)],
  ['/uploads', () => import('./knowledge/uploads').then((m) => m.uploadsRouter)],
  ['/workflows', () => import('./workflows/workflows').then((m) => m.workflowsRouter)],
  ['/executions', () => import('./workflows/executions').then((m) => m.executionsRouter)],
  ['/execution-logs', () => import('./workflows/execution-logs').then((m) => m.executionLogsRouter)],
  ['/nodes', () => import('./workflows/nodes').then((m) => m.nodesRouter)],
  ['/node-templates', () => import('./workflows/node-templates').then((m) => m.nodeTemplatesRouter)],
  ['/approval', () => import('./workflows/approval').then((m) => m.approvalRouter)],
  ['/ws', () => import('./workflows/ws').then((m) => m.wsRouter)],
  ['/feishu', () => import('./integrations/feishu').then((m) => m.feishuRouter)],
  ['/agent-schedules', () => import('./workflows/agent-schedules').then((m) => m.agentSchedulesRouter)],
  ['/webhooks', () => import('./workflows/webhooks').then((m) => m.webhooksRouter)],
  ['/batch', () => import('./workflows/batch').then((m) => m.batchRouter)],
  ['/data-sources', () => import('./knowledge/data-sources').then((m) => m.dataSourcesRouter)],
  ['/agent-market', () => import('./marketplace/agent-market').then((m) => m.agentMarketRouter)],
  ['/plugins', () => import('./marketplace/plugins').then((m) => m.pluginsRouter)],
  ['/orchestration-templates', () => import('./marketplace/orchestration-templates').then((m) => m.orchestrationTemplatesRouter)],
  ['/platform', () => import('./marketplace/platform').then((m) => m.platformRouter)],
  ['/template-market', () => import('./marketplace/template-market').then((m) => m.templateMarketRouter)],
  ['/permissions', () => import('./identity/permissions').then((m) => m.permissionsRouter)],
  ['/audit-logs', () => import('./governance/audit-logs').then((m) => m.auditLogsRouter)],
  ['/system-logs', () => import('./governance/system-logs').then((m) => m.systemLogsRouter)],
  ['/monitoring', () => import('./governance/monitoring').then((m) => m.monitoringRouter)],
  ['/agent-monitoring', () => import('./governance/agent-monitoring').then((m) => m.agentMonitoringRouter)],
  ['/alert-rules', () => import('./governance/alert-rules').then((m) => m.alertRulesRouter)],
  ['/feedback', () => import('./governance/feedback').then((m) => m.feedbackRouter)],
  ['/evals', () => import('./governance/evals').then((m) => m.evalsRouter)],
  ['/collaboration', () => import('./governance/collaboration').then((m) => m.collaborationRouter)],
];
