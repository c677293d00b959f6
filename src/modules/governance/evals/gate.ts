import type { Env } from '../../../env';
import type { AuthUser } from '../../../lib/auth';
import { ApiError, notFound, validationError } from '../../../lib/errors';
import { scorerName, type ScorerSpec } from '../../../engine/evals/scorers';
import { authorize } from '../../identity/permissions/authorize';
import { findActiveUser } from '../../identity/auth/store';
import { handleEvalMessage, type WorkflowCandidate } from './queue';
import { ScorerSchema, type Gate, type PutGate, type Target, type WorkflowGate } from './schemas';
import { getDataset, openRun, runMessages } from './service';
import * as store from './store';
import type { GateRow, WorkflowGateRow } from './store';
import type { Graph, InputDef } from '../../../engine/workflow/types';

/** A deploy scores the gate's dataset inline, within the request: larger datasets are refused. */
export const GATE_MAX_ROWS = 100;

const toGate = (g: GateRow): Gate => ({
  agent_id: g.agentId,
  owner_id: g.ownerId,
  dataset_id: g.datasetId,
  scorer: JSON.parse(g.scorer),
  min_score: g.minScore,
  created_at: g.createdAt,
  updated_at: g.updatedAt,
});

/** Setting or reading an agent's gate takes write access to the agent (what deploying it takes). */
const canManage = (env: Env, user: AuthUser, agentId: string) => authorize(env, user, 'agent', agentId, 'write');

export async function putGate(env: Env, user: AuthUser, agentId: string, input: PutGate): Promise<Gate> {
  await canManage(env, user, agentId);
  const ds = await getDataset(env, user, input.dataset_id);
  if (ds.row_count > GATE_MAX_ROWS) throw validationError(`body.dataset_id: a deploy gate scores at most ${GATE_MAX_ROWS} rows (the dataset has ${ds.row_count})`);
  return toGate(await store.putGate(env.DB, { agentId, ownerId: user.id, datasetId: ds.id, scorer: JSON.stringify(input.scorer), minScore: input.min_score }));
}

export async function getGate(env: Env, user: AuthUser, agentId: string): Promise<Gate> {
  await canManage(env, user, agentId);
  const gate = await store.findGate(env.DB, agentId);
  if (!gate) throw notFound('Eval gate');
  return toGate(gate);
}

export async function deleteGate(env: Env, user: AuthUser, agentId: string): Promise<void> {
  await canManage(env, user, agentId);
  if (!(await store.deleteGate(env.DB, agentId))) throw notFound('Eval gate');
}

const toWorkflowGate = (g: WorkflowGateRow): WorkflowGate => ({
  workflow_id: g.workflowId,
  owner_id: g.ownerId,
  dataset_id: g.datasetId,
  scorer: JSON.parse(g.scorer),
  min_score: g.minScore,
  created_at: g.createdAt,
  updated_at: g.updatedAt,
});

/** A workflow's gate takes write access to the workflow (what saving a new version takes). */
const canManageWorkflow = (env: Env, user: AuthUser, workflowId: string) => authorize(env, user, 'workflow', workflowId, 'write');

export async function putWorkflowGate(env: Env, user: AuthUser, workflowId: string, input: PutGate): Promise<WorkflowGate> {
  await canManageWorkflow(env, user, workflowId);
  const ds = await getDataset(env, user, input.dataset_id);
  if (ds.row_count > GATE_MAX_ROWS) throw validationError(`body.dataset_id: a deploy gate scores at most ${GATE_MAX_ROWS} rows (the dataset has ${ds.row_count})`);
  return toWorkflowGate(await store.putWorkflowGate(env.DB, { workflowId, ownerId: user.id, datasetId: ds.id, scorer: JSON.stringify(input.scorer), minScore: input.min_score }));
}

export async function getWorkflowGate(env: Env, user: AuthUser, workflowId: string): Promise<WorkflowGate> {
  await canManageWorkflow(env, user, workflowId);
  const gate = await store.findWorkflowGate(env.DB, workflowId);
  if (!gate) throw notFound('Eval gate');
  return toWorkflowGate(gate);
}

export async function deleteWorkflowGate(env: Env, user: AuthUser, workflowId: string): Promise<void> {
  await canManageWorkflow(env, user, workflowId);
  if (!(await store.deleteWorkflowGate(env.DB, workflowId))) throw notFound('Eval gate');
}

const gateRefusal = (message: string) => new ApiError(422, 'EVAL_GATE_FAILED', message);

/**
 * The deploy gate of an agent about to be deployed at `version`: with a gate, its scorer runs over
 * the current version of the gate's dataset now (an eval run of the gate owner's, scored inline)
 * and a mean below `min_score` refuses the deploy with 422 naming the score, the threshold and the
 * run. Without a gate, nothing to check.
 */
export async function checkDeployGate(env: Env, agent: { id: string; version: number }): Promise<void> {
  const gate = await store.findGate(env.DB, agent.id);
  if (!gate) return;
  await scoreGate(env, gate, `/api/v1/evals/gates/${agent.id}`, `agent ${agent.id} version ${agent.version}`, `version ${agent.version}`, { type: 'agent', agent_id: agent.id, version: agent.version });
}

/**
 * The deploy gate of a workflow about to save a new version (a `PUT` changing its graph or
 * inputs, a rollback): the candidate, not yet saved, runs over the gate's dataset (each row a
 * workflow run of the candidate graph, trigger `eval`), and a mean below `min_score` refuses the
 * save with 422. Without a gate, nothing to check.
 */
export async function checkWorkflowGate(
  env: Env,
  workflow: { id: string; ownerId: string; nextVersion: number; graph: Graph; inputsSchema: InputDef[] },
): Promise<void> {
  const gate = await store.findWorkflowGate(env.DB, workflow.id);
  if (!gate) return;
  const candidate: WorkflowCandidate = { workflowId: workflow.id, ownerId: workflow.ownerId, graph: workflow.graph, inputsSchema: workflow.inputsSchema };
  await scoreGate(
    env,
    gate,
    `/api/v1/evals/gates/workflows/${workflow.id}`,
    `workflow ${workflow.id} candidate version ${workflow.nextVersion}`,
    `version ${workflow.nextVersion}`,
    { type: 'workflow', workflow_id: workflow.id },
    candidate,
  );
}

/** Scores a gate inline (an eval run of its owner's) and throws 422 EVAL_GATE_FAILED below its threshold. */
async function scoreGate(env: Env, gate: GateRow | WorkflowGateRow, path: string, subject: string, candidateName: string, target: Target, candidate?: WorkflowCandidate): Promise<void> {
  const owner = await findActiveUser(env, gate.ownerId);
  if (!owner) throw gateRefusal(`The deploy gate was set by a user who is no longer active; set it again or remove it (PUT or DELETE ${path})`);
  const ds = await store.findDataset(env.DB, gate.datasetId);
  if (!ds) throw gateRefusal(`The deploy gate's dataset ${gate.datasetId} no longer exists`);
  if (ds.rowCount > GATE_MAX_ROWS) throw gateRefusal(`The deploy gate's dataset has ${ds.rowCount} rows; a gate scores at most ${GATE_MAX_ROWS}`);
  const scorer = ScorerSchema.parse(JSON.parse(gate.scorer));
  const { run, rowIds } = await openRun(env, owner, {
    dataset_id: ds.id,
    name: `deploy gate: ${subject}`,
    target,
    scorers: [scorer],
    concurrency: 4,
  });
  try {
    for (const message of runMessages(run.id, rowIds)) await handleEvalMessage(env, message, candidate);
  } catch (e) {
    await store.failRun(env.DB, run.id, `the deploy gate's run stopped: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
  const ended = (await store.findRun(env.DB, run.id))!;
  const name = scorerName(scorer as ScorerSpec);
  const score = ended.status === 'completed' ? (JSON.parse(ended.summary!) as { scorers: Array<{ scorer: string; mean: number }> }).scorers.find((s) => s.scorer === name)?.mean ?? 0 : 0;
  if (ended.status !== 'completed' || score < gate.minScore) {
    throw gateRefusal(
      `The deploy gate refused ${candidateName}: ${name} scored ${score} over dataset ${ds.id} version ${ds.version}, below the threshold ${gate.minScore} (eval run ${run.id}${ended.status === 'completed' ? '' : `, ${ended.status}`})`,
    );
  }
}
