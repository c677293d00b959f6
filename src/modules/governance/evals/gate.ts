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

/** What both kinds of gate show besides the resource they guard. */
const gateView = (g: GateRow | WorkflowGateRow) => ({
  owner_id: g.ownerId,
  dataset_id: g.datasetId,
  scorer: JSON.parse(g.scorer),
  min_score: g.minScore,
  created_at: g.createdAt,
  updated_at: g.updatedAt,
});

const toGate = (g: GateRow): Gate => ({ agent_id: g.agentId, ...gateView(g) });

const toWorkflowGate = (g: WorkflowGateRow): WorkflowGate => ({ workflow_id: g.workflowId, ...gateView(g) });

type GateFields = Pick<GateRow, 'ownerId' | 'datasetId' | 'scorer' | 'minScore'>;

/** What differs between an agent's gate and a workflow's: the resource it guards, its table's store functions, its API view. */
interface GateKind<Row, View> {
  resource: 'agent' | 'workflow';
  find(d1: D1Database, id: string): Promise<Row | null>;
  put(d1: D1Database, id: string, gate: GateFields): Promise<Row>;
  remove(d1: D1Database, id: string): Promise<boolean>;
  view(row: Row): View;
}

const AGENT_GATES: GateKind<GateRow, Gate> = {
  resource: 'agent',
  find: store.findGate,
  put: (d1, agentId, gate) => store.putGate(d1, { agentId, ...gate }),
  remove: store.deleteGate,
  view: toGate,
};

const WORKFLOW_GATES: GateKind<WorkflowGateRow, WorkflowGate> = {
  resource: 'workflow',
  find: store.findWorkflowGate,
  put: (d1, workflowId, gate) => store.putWorkflowGate(d1, { workflowId, ...gate }),
  remove: store.deleteWorkflowGate,
  view: toWorkflowGate,
};

/** Setting, reading or removing a gate takes write access to its agent or workflow (what deploying it, or saving a new version, takes). */
const canManage = (env: Env, user: AuthUser, kind: GateKind<unknown, unknown>, id: string) => authorize(env, user, kind.resource, id, 'write');

async function putGateOf<Row, View>(kind: GateKind<Row, View>, env: Env, user: AuthUser, id: string, input: PutGate): Promise<View> {
  await canManage(env, user, kind, id);
  const ds = await getDataset(env, user, input.dataset_id);
  if (ds.row_count > GATE_MAX_ROWS) throw validationError(`body.dataset_id: a deploy gate scores at most ${GATE_MAX_ROWS} rows (the dataset has ${ds.row_count})`);
  return kind.view(await kind.put(env.DB, id, { ownerId: user.id, datasetId: ds.id, scorer: JSON.stringify(input.scorer), minScore: input.min_score }));
}

async function getGateOf<Row, View>(kind: GateKind<Row, View>, env: Env, user: AuthUser, id: string): Promise<View> {
  await canManage(env, user, kind, id);
  const gate = await kind.find(env.DB, id);
  if (!gate) throw notFound('Eval gate');
  return kind.view(gate);
}

async function deleteGateOf(kind: GateKind<unknown, unknown>, env: Env, user: AuthUser, id: string): Promise<void> {
  await canManage(env, user, kind, id);
  if (!(await kind.remove(env.DB, id))) throw notFound('Eval gate');
}

export const putGate = (env: Env, user: AuthUser, agentId: string, input: PutGate) => putGateOf(AGENT_GATES, env, user, agentId, input);
export const getGate = (env: Env, user: AuthUser, agentId: string) => getGateOf(AGENT_GATES, env, user, agentId);
export const deleteGate = (env: Env, user: AuthUser, agentId: string) => deleteGateOf(AGENT_GATES, env, user, agentId);
export const putWorkflowGate = (env: Env, user: AuthUser, workflowId: string, input: PutGate) => putGateOf(WORKFLOW_GATES, env, user, workflowId, input);
export const getWorkflowGate = (env: Env, user: AuthUser, workflowId: string) => getGateOf(WORKFLOW_GATES, env, user, workflowId);
export const deleteWorkflowGate = (env: Env, user: AuthUser, workflowId: string) => deleteGateOf(WORKFLOW_GATES, env, user, workflowId);

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
