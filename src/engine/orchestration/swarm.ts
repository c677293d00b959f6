import { addUsage, emptyUsage, type Usage } from '../llm/types';
import type { AgentOutput, OrchestrationAgent } from './index';

/**
 * The swarm: a coordinator splits a task among worker agents, the workers run concurrently, and a
 * reviewer (the coordinator again) merges their results. The reviewer may send the work back
 * (`REVISE: <feedback>`) while rounds remain. With the mock model everything is deterministic: the
 * coordinator's answer is not a JSON plan, so the task is split by lines (round-robin over the
 * workers; a one-line task goes to every worker whole) and the reviewer's answer is final.
 */
export type SwarmRole = 'coordinator' | 'worker' | 'reviewer';

export interface SwarmStep {
  agent_id: string;
  agent_name: string;
  role: SwarmRole;
  round: number;
  input: string;
  output: string;
  token_usage: Usage;
  duration_ms: number;
}

export type SwarmEvent =
  | { type: 'agent_started'; agent_id: string; agent_name: string; role: SwarmRole; round: number }
  | { type: 'agent_finished'; step: SwarmStep };

/** Runs one agent for the swarm; `role` and `round` let the caller label streamed tokens. */
export type SwarmRunAgent = (agent: OrchestrationAgent, input: string, role: SwarmRole, round: number) => Promise<AgentOutput>;

export interface SwarmResult {
  task: string;
  coordinator_id: string;
  rounds: number;
  assignments: Array<{ agent_id: string; subtask: string }>;
  steps: SwarmStep[];
  transcripts: Array<{ agent_id: string; agent_name: string; steps: SwarmStep[] }>;
  result: string;
  token_usage: Usage;
}

export function splitPrompt(task: string, workers: OrchestrationAgent[]): string {
  return `Split this task among the workers below. Answer with JSON only: {"assignments": [{"agent_id": "...", "subtask": "..."}]}, one entry per worker.\n\nWorkers:\n${workers
    .map((w) => `- ${w.id}: ${w.name}${w.description ? ` — ${w.description}` : ''}`)
    .join('\n')}\n\nTask: ${task}`;
}

export function reviewPrompt(task: string, results: SwarmStep[], round: number, maxRounds: number): string {
  const more = round < maxRounds ? '\nIf the work is not good enough yet, answer "REVISE: " followed by what the workers should change.' : '';
  return `Task: ${task}\n\nThe workers' results:\n${results.map((s) => `[${s.agent_name}] ${s.output}`).join('\n\n')}\n\nMerge them into one final answer to the task.${more}`;
}

/** The coordinator's assignments, if its answer is a usable JSON plan naming the workers. */
export function parseAssignments(text: string, workers: OrchestrationAgent[]): Array<{ agent_id: string; subtask: string }> | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end <= start) return null;
  try {
    const parsed = JSON.parse(text.slice(start, end + 1)) as { assignments?: Array<{ agent_id?: unknown; subtask?: unknown }> };
    const ids = new Set(workers.map((w) => w.id));
    const list = (parsed.assignments ?? []).filter(
      (a): a is { agent_id: string; subtask: string } => typeof a.agent_id === 'string' && ids.has(a.agent_id) && typeof a.subtask === 'string' && a.subtask.trim() !== '',
    );
    // Every worker needs work: a plan that leaves one out is not used.
    return workers.every((w) => list.some((a) => a.agent_id === w.id)) ? workers.map((w) => ({ agent_id: w.id, subtask: list.filter((a) => a.agent_id === w.id).map((a) => a.subtask).join('\n') })) : null;
  } catch {
    return null;
  }
}

/** The deterministic split: the task's lines round-robin over the workers; a single line goes to each whole. */
export function splitByLines(task: string, workers: OrchestrationAgent[]): Array<{ agent_id: string; subtask: string }> {
  const lines = task.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length < 2) return workers.map((w) => ({ agent_id: w.id, subtask: task.trim() }));
  const parts = workers.map(() => [] as string[]);
  lines.forEach((line, i) => parts[i % workers.length].push(line));
  return workers.map((w, i) => ({ agent_id: w.id, subtask: parts[i].join('\n') })).filter((a) => a.subtask);
}

export async function runSwarm(
  task: string,
  agents: OrchestrationAgent[],
  maxRounds: number,
  run: SwarmRunAgent,
  onEvent: (e: SwarmEvent) => void | Promise<void> = () => {},
): Promise<SwarmResult> {
  const coordinator = agents[0];
  const workers = agents.length > 1 ? agents.slice(1) : agents;
  const byId = new Map(agents.map((a) => [a.id, a]));
  const steps: SwarmStep[] = [];

  const step = async (agent: OrchestrationAgent, input: string, role: SwarmRole, round: number): Promise<SwarmStep> => {
    await onEvent({ type: 'agent_started', agent_id: agent.id, agent_name: agent.name, role, round });
    const started = Date.now();
    const { output, token_usage } = await run(agent, input, role, round);
    const s: SwarmStep = { agent_id: agent.id, agent_name: agent.name, role, round, input, output, token_usage, duration_ms: Date.now() - started };
    steps.push(s);
    await onEvent({ type: 'agent_finished', step: s });
    return s;
  };

  const plan = await step(coordinator, splitPrompt(task, workers), 'coordinator', 0);
  const assignments = parseAssignments(plan.output, workers) ?? splitByLines(task, workers);

  let feedback = '';
  let result = '';
  let rounds = 0;
  for (let round = 1; round <= maxRounds; round++) {
    rounds = round;
    const results = await Promise.all(
      assignments.map((a) => step(byId.get(a.agent_id)!, feedback ? `${a.subtask}\n\nThe reviewer asks you to revise: ${feedback}` : a.subtask, 'worker', round)),
    );
    const review = await step(coordinator, reviewPrompt(task, results, round, maxRounds), 'reviewer', round);
    const revise = review.output.match(/^\s*REVISE:\s*([\s\S]*)$/);
    if (revise && round < maxRounds) {
      feedback = revise[1].trim();
      continue;
    }
    result = revise ? revise[1].trim() : review.output;
    break;
  }

  const transcripts = agents
    .filter((a, i) => agents.findIndex((b) => b.id === a.id) === i)
    .map((a) => ({ agent_id: a.id, agent_name: a.name, steps: steps.filter((s) => s.agent_id === a.id) }))
    .filter((t) => t.steps.length);
  const token_usage = steps.reduce((u, s) => addUsage(u, s.token_usage), emptyUsage());
  return { task, coordinator_id: coordinator.id, rounds, assignments, steps, transcripts, result, token_usage };
}
