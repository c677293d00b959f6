import { int, obj, str, tool } from '../../../engine/tools/define';
import { registerBuiltinTool } from '../../../engine/tools/registry';
import { ApiError } from '../../../lib/errors';

/** How long run_workflow may wait for a run to finish (the workflows API's `wait_ms` goes as far). */
export const RUN_WORKFLOW_MAX_WAIT_S = 120;

/**
 * `run_workflow`: runs a workflow the user the tool runs for may execute (authorize(); another
 * user's workflow is not found), as their run (trigger `tool`) with the workflow owner's rights,
 * one delegation level deeper than the caller. It waits up to `timeout_seconds` for the outputs;
 * a run still going then is answered with its execution id and status, to follow at
 * `GET /executions/{id}`. A run that failed is the tool's error.
 */
registerBuiltinTool(
  tool<{ workflow_id: string; inputs?: Record<string, unknown>; timeout_seconds: number }>({
    name: 'run_workflow',
    category: 'platform',
    description: 'Run a workflow the user may run with inputs and wait for its outputs up to a timeout; a run still going then answers with its execution id to follow.',
    description_zh: '以给定输入运行用户有权执行的工作流,并在超时时间内等待其输出;超时仍未结束则返回执行 ID 以便后续查询。',
    parameters: obj(
      {
        workflow_id: str('The workflow to run', { format: 'uuid' }),
        inputs: { type: 'object', description: "The workflow's inputs by name", additionalProperties: true, default: {} },
        timeout_seconds: int('How long to wait for the outputs', { minimum: 0, maximum: RUN_WORKFLOW_MAX_WAIT_S, default: 30 }),
      },
      ['workflow_id'],
    ),
    async execute({ workflow_id, inputs, timeout_seconds }, ctx) {
      // The run's machinery is imported on the tool's first call, not at startup (every isolate registers the tool).
      const [{ nestedDepth }, { executeWorkflow }] = await Promise.all([import('../../../runs/agent-turn'), import('../../../runs/workflow-run')]);
      const delegationDepth = nestedDepth(ctx.depth, 'run_workflow');
      const { execution, settled } = await executeWorkflow(ctx.env, ctx.userId, workflow_id, {
        inputs: inputs ?? {},
        trigger: 'tool',
        waitMs: timeout_seconds * 1000,
        delegationDepth,
      });
      const ref = { execution_id: execution.id, workflow_id, status: execution.status };
      if (!settled) {
        return {
          ...ref,
          outputs: null,
          message: `The run did not finish within ${timeout_seconds} s; it goes on as execution ${execution.id}: GET /api/v1/executions/${execution.id}`,
        };
      }
      if (execution.status !== 'succeeded') {
        const err = execution.error as { code?: string; message?: string } | null;
        throw new ApiError(502, 'WORKFLOW_FAILED', `Execution ${execution.id} ${execution.status}${err ? `: ${err.code ?? 'ERROR'}: ${err.message ?? ''}` : ''}`);
      }
      return { ...ref, outputs: execution.outputs ?? {}, token_usage: execution.token_usage, duration_ms: execution.duration_ms };
    },
  }),
);
