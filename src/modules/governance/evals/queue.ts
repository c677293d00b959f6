import type { Env } from '../../../env';
import { EVALS_QUEUE_NAME, type EvalRowsMessage } from '../../../queues';
import { complete } from '../../../engine/llm/gateway';
import { judgePrompt, parseVerdict, scoreAll, type Judge, type RowOutcome, type Score, type ScorerSpec } from '../../../engine/evals/scorers';
import { runAgent } from '../../../runs/agent-turn';
import { loadTurnAgent } from '../../../runs/agents';
import { resolveModelTarget } from '../../../runs/model-target';
import { executeWorkflow, startExecution } from '../../../runs/workflow-run';
import type { Graph, InputDef } from '../../../engine/workflow/types';
import type { TurnAgent } from '../../../runs/types';
import { ApiError } from '../../../lib/errors';
import { findVersionSnapshot } from '../../agents/agents/store';
import { logJobFailure } from '../system-logs/log';
import type { Target } from './schemas';
import { summarize } from './service';
import * as store from './store';
import type { DatasetRowRecord, RunRow } from './store';

const EVALS_JOB = `queue:${EVALS_QUEUE_NAME}`;
/** How long a workflow run of one row may take before the row counts as failed. */
const WORKFLOW_WAIT_MS = 120_000;

const isEvalMessage = (b: unknown): b is EvalRowsMessage =>
  typeof b === 'object' && b !== null && typeof (b as EvalRowsMessage).run_id === 'string' && Array.isArray((b as EvalRowsMessage).row_ids);

const describeError = (e: unknown) => (e instanceof ApiError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e));

interface Execution {
  output: string;
  tool_calls: Array<{ name: string; arguments: unknown }>;
  prompt_tokens: number;
  completion_tokens: number;
}

/** The agent at the run's pinned version: the current row, or its snapshot of that version over it. */
async function agentAtVersion(env: Env, agentId: string, version: number): Promise<TurnAgent> {
  const agent = await loadTurnAgent(env.DB, agentId);
  if (!agent) throw new Error('the agent no longer exists');
  if (agent.version === version) return agent;
  const snapshot = await findVersionSnapshot(env.DB, agentId, version);
  if (!snapshot) throw new Error(`the agent has no version ${version}`);
  return { ...agent, ...(JSON.parse(snapshot) as Partial<TurnAgent>), version };
}

/**
 * A workflow version not saved yet, scored by its deploy gate before the save (gate.ts): each row
 * runs this graph, as the workflow owner, instead of the workflow's current version.
 */
export interface WorkflowCandidate {
  workflowId: string;
  ownerId: string;
  graph: Graph;
  inputsSchema: InputDef[];
}

/** What runs one row of a run (prepared once per message: the agent and model are read once). */
async function rowExecutor(env: Env, run: RunRow, candidate?: WorkflowCandidate): Promise<(input: unknown) => Promise<Execution>> {
  const target = JSON.parse(run.target) as Target;
  const message = (input: unknown) => (typeof input === 'string' ? input : JSON.stringify(input));
  if (target.type === 'agent') {
    const agent = await agentAtVersion(env, target.agent_id, target.version!);
    return async (input) => {
      const r = await runAgent({ env, userId: run.ownerId, agent, message: message(input), source: 'eval' });
      return {
        output: r.reply,
        tool_calls: r.tool_calls.map((c) => ({ name: c.name, arguments: c.arguments })),
        prompt_tokens: r.token_usage.prompt_tokens,
        completion_tokens: r.token_usage.completion_tokens,
      };
    };
  }
  if (target.type === 'model') {
    const model = await resolveModelTarget(env, run.ownerId, {
      provider: target.provider,
      model_name: target.model_name,
      model_config_id: target.model_config_id,
      temperature: target.temperature,
    });
    return async (input) => {
      const messages = [...(target.system_prompt ? [{ role: 'system' as const, content: target.system_prompt }] : []), { role: 'user' as const, content: message(input) }];
      const r = await complete(env, model, { messages }, { user_id: run.ownerId, source: 'eval' });
      return { output: r.content, tool_calls: r.tool_calls.map((c) => ({ name: c.name, arguments: c.arguments })), prompt_tokens: r.usage.prompt_tokens, completion_tokens: r.usage.completion_tokens };
    };
  }
  return async (input) => {
    const inputs = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : { input };
    const { execution, settled } = candidate
      ? await startExecution(env, { ownerId: run.ownerId, runAs: candidate.ownerId, graph: candidate.graph, inputsSchema: candidate.inputsSchema, inputs, workflowId: candidate.workflowId, trigger: 'eval', waitMs: WORKFLOW_WAIT_MS })
      : await executeWorkflow(env, run.ownerId, target.workflow_id, { inputs, trigger: 'eval', waitMs: WORKFLOW_WAIT_MS });
    if (!settled) throw new Error(`the workflow run ${execution.id} did not finish within ${WORKFLOW_WAIT_MS / 1000} s`);
    if (execution.status !== 'succeeded') throw new Error(`the workflow run ${execution.id} ${execution.status}: ${execution.error ?? ''}`.trim());
    const outputs = execution.outputs as Record<string, unknown> | null;
    const single = outputs && typeof outputs.output === 'string' ? outputs.output : null;
    return { output: single ?? JSON.stringify(outputs ?? null), tool_calls: [], prompt_tokens: 0, completion_tokens: 0 };
  };
}

/** The LLM judge: the scorer's model (default: the run owner's default model), recorded as the owner's call. */
function judgeFor(env: Env, run: RunRow): Judge {
  return async (req) => {
    const model = await resolveModelTarget(env, run.ownerId, req.model ?? null);
    const prompt = judgePrompt(req);
    const r = await complete(
      env,
      model,
      { messages: [{ role: 'system', content: prompt.system }, { role: 'user', content: prompt.user }], temperature: 0 },
      { user_id: run.ownerId, source: 'eval-judge' },
    );
    return parseVerdict(r.content);
  };
}

/** Runs `task` over `items`, at most `limit` at once. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Executes and scores one row, then records it (once: see store.recordResult). */
async function evaluateRow(env: Env, run: RunRow, execute: (input: unknown) => Promise<Execution>, judge: Judge, row: DatasetRowRecord) {
  const scorers = JSON.parse(run.scorers) as ScorerSpec[];
  const price = run.price ? (JSON.parse(run.price) as { input_per_million: number; output_per_million: number }) : null;
  const input = JSON.parse(row.input) as unknown;
  const expected = row.expected === null ? null : (JSON.parse(row.expected) as unknown);
  const started = Date.now();
  let execution: Execution | null = null;
  let error: string | null = null;
  try {
    execution = await execute(input);
  } catch (e) {
    error = describeError(e);
  }
  const latency = Date.now() - started;
  const cost = execution && price ? (execution.prompt_tokens * price.input_per_million + execution.completion_tokens * price.output_per_million) / 1e6 : 0;
  let scores: Score[];
  if (execution) {
    const outcome: RowOutcome = { input, expected, output: execution.output, tool_calls: execution.tool_calls, latency_ms: latency, cost };
    try {
      scores = await scoreAll(scorers, outcome, judge);
    } catch (e) {
      error = `scoring failed: ${describeError(e)}`;
      scores = [];
    }
  } else {
    scores = [];
  }
  if (error) scores = scorers.map((s) => ({ scorer: s.name ?? s.type, score: 0, passed: false, detail: 'the row failed' }));
  const { run: after } = await store.recordResult(env.DB, {
    id: crypto.randomUUID(),
    runId: run.id,
    rowId: row.id,
    position: row.position,
    output: execution?.output ?? null,
    toolCalls: JSON.stringify(execution?.tool_calls ?? []),
    scores: JSON.stringify(scores),
    passed: !error && scores.every((s) => s.passed) ? 1 : 0,
    latencyMs: latency,
    promptTokens: execution?.prompt_tokens ?? 0,
    completionTokens: execution?.completion_tokens ?? 0,
    cost,
    error,
  });
  if (after && after.status === 'running' && after.done >= after.total) {
    await store.completeRun(env.DB, run.id, JSON.stringify(summarize(scorers, await store.runResults(env.DB, run.id))));
  }
}

/**
 * One message: the rows it names that have no result yet, at most the run's concurrency at once.
 * A cancelled or ended run runs nothing; a message delivered again finds its rows scored.
 */
export async function handleEvalMessage(env: Env, body: EvalRowsMessage, candidate?: WorkflowCandidate): Promise<number> {
  let run = await store.findRun(env.DB, body.run_id);
  if (!run || !['queued', 'running'].includes(run.status)) return 0;
  if (run.status === 'queued') {
    await store.startRun(env.DB, run.id);
    run = { ...run, status: 'running' };
  }
  const rows = await store.unscoredRows(env.DB, run.id, body.row_ids);
  if (!rows.length) return 0;
  let execute: (input: unknown) => Promise<Execution>;
  try {
    execute = await rowExecutor(env, run, candidate);
  } catch (e) {
    // The target is gone (deleted agent, missing version): every row fails with the reason.
    const reason = describeError(e);
    execute = async () => {
      throw new Error(reason);
    };
  }
  const judge = judgeFor(env, run);
  const current = run;
  await pool(rows, current.concurrency, (row) => evaluateRow(env, current, execute, judge, row));
  return rows.length;
}

/** The `tiangong-evals` consumer: messages one after another, each with its rows in parallel up to the run's concurrency. */
export async function consumeEvalBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    if (!isEvalMessage(message.body)) {
      await logJobFailure(env, { job: EVALS_JOB, gaveUp: true, messageId: message.id, attempt: message.attempts, cause: 'malformed eval message dropped' });
      message.ack();
      continue;
    }
    try {
      await handleEvalMessage(env, message.body);
      message.ack();
    } catch (e) {
      await logJobFailure(env, { job: EVALS_JOB, gaveUp: false, messageId: message.id, attempt: message.attempts, resource: { type: 'eval_run', id: message.body.run_id }, cause: e });
      message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) });
    }
  }
}

/** Dead letters: rows that could not be processed after every retry fail their run, which would otherwise never end. */
export async function consumeEvalDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    if (isEvalMessage(message.body)) {
      const run = await store.findRun(env.DB, message.body.run_id);
      await logJobFailure(env, { job: EVALS_JOB, gaveUp: true, messageId: message.id, resource: { type: 'eval_run', id: message.body.run_id }, userId: run?.ownerId });
      await store.failRun(env.DB, message.body.run_id, `${message.body.row_ids.length} row(s) could not be processed after repeated delivery failures`);
    }
    message.ack();
  }
}
