import { z } from 'zod';

/**
 * Goal decomposition and replanning without HTTP or storage: the mock rule, the prompt for real
 * models, and the parsing and validation of what a model returns. A plan refers to its own tasks
 * by `key` (and, when replanning, to completed tasks by id); the service turns keys into UUIDs.
 */
export const MAX_PLAN_TASKS = 200;
export const MAX_TITLE = 200;

export interface PlannedTask {
  key: string;
  title: string;
  description: string;
  /** The key of the parent task in the tree, if any. */
  parent: string | null;
  /** Keys of tasks in this plan, or ids of completed tasks (replanning). */
  depends_on: string[];
  agent_id: string | null;
  requires_approval: boolean;
}

export class PlanError extends Error {}

/** The mock rule: each non-empty line becomes one task depending on the previous one. */
export function linePlan(description: string, agentIds: string[], after: string | null = null): PlannedTask[] {
  const lines = description
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length > MAX_PLAN_TASKS) throw new PlanError(`the description has ${lines.length} lines; a plan holds at most ${MAX_PLAN_TASKS} tasks`);
  return lines.map((line, i) => ({
    key: `t${i + 1}`,
    title: line.length > MAX_TITLE ? line.slice(0, MAX_TITLE - 1) + '…' : line,
    description: line.length > MAX_TITLE ? line : '',
    parent: null,
    depends_on: i === 0 ? (after ? [after] : []) : [`t${i}`],
    // Round-robin over the goal's agents, so the work is spread deterministically.
    agent_id: agentIds.length ? agentIds[i % agentIds.length] : null,
    requires_approval: false,
  }));
}

const ModelTask = z.object({
  key: z.union([z.string(), z.number()]).transform(String),
  title: z.string().trim().min(1),
  description: z.string().optional().default(''),
  parent: z.union([z.string(), z.number()]).nullish().transform((v) => (v === null || v === undefined ? null : String(v))),
  depends_on: z.array(z.union([z.string(), z.number()]).transform(String)).optional().default([]),
  agent_id: z.string().nullish().transform((v) => v ?? null),
  requires_approval: z.boolean().optional().default(false),
});
const ModelPlan = z.object({ tasks: z.array(ModelTask) });

/** The JSON object in a model's answer (it may wrap it in prose or a ```json fence). */
export function extractJson(text: string): unknown {
  const fenced = text.match(/```(?:json)?\s*([\s\S]*?)```/i);
  const candidate = fenced ? fenced[1] : text;
  const start = candidate.indexOf('{');
  const end = candidate.lastIndexOf('}');
  if (start === -1 || end <= start) throw new PlanError('the answer contains no JSON object');
  try {
    return JSON.parse(candidate.slice(start, end + 1));
  } catch {
    throw new PlanError('the answer is not valid JSON');
  }
}

/**
 * Parses and validates a model's plan: known references, unique keys, an acyclic dependency graph,
 * an acyclic parent tree, at most MAX_PLAN_TASKS tasks. `agentIds` limits assignable agents (an
 * unknown agent is dropped rather than failing the plan: the task is still worth doing);
 * `completedIds` are tasks a replan may depend on.
 */
export function parsePlan(text: string, agentIds: string[], completedIds: string[] = [], allowEmpty = false): PlannedTask[] {
  const parsed = ModelPlan.safeParse(extractJson(text));
  if (!parsed.success) throw new PlanError(`the plan does not have the expected shape: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  const tasks: PlannedTask[] = parsed.data.tasks.map((t) => ({
    ...t,
    title: t.title.length > MAX_TITLE ? t.title.slice(0, MAX_TITLE - 1) + '…' : t.title,
    depends_on: [...new Set(t.depends_on)],
    agent_id: t.agent_id && agentIds.includes(t.agent_id) ? t.agent_id : null,
  }));
  validatePlan(tasks, completedIds, allowEmpty);
  return tasks;
}

export function validatePlan(tasks: PlannedTask[], completedIds: string[] = [], allowEmpty = false): void {
  if (tasks.length === 0 && !allowEmpty) throw new PlanError('the plan has no tasks');
  if (tasks.length > MAX_PLAN_TASKS) throw new PlanError(`the plan has ${tasks.length} tasks; at most ${MAX_PLAN_TASKS} are allowed`);
  const keys = new Set<string>();
  for (const t of tasks) {
    if (keys.has(t.key)) throw new PlanError(`task key "${t.key}" is used twice`);
    keys.add(t.key);
  }
  const completed = new Set(completedIds);
  for (const t of tasks) {
    for (const d of t.depends_on) {
      if (d === t.key) throw new PlanError(`task "${t.key}" depends on itself`);
      if (!keys.has(d) && !completed.has(d)) throw new PlanError(`task "${t.key}" depends on unknown task "${d}"`);
    }
    if (t.parent !== null && !keys.has(t.parent)) throw new PlanError(`task "${t.key}" has unknown parent "${t.parent}"`);
  }
  const cycle = findCycle(
    tasks.map((t) => t.key),
    tasks.flatMap((t) => t.depends_on.filter((d) => keys.has(d)).map((d) => [t.key, d] as [string, string])),
  );
  if (cycle) throw new PlanError(`the dependencies have a cycle: ${cycle.join(' → ')}`);
  const parentCycle = findCycle(
    tasks.map((t) => t.key),
    tasks.filter((t) => t.parent !== null).map((t) => [t.key, t.parent!] as [string, string]),
  );
  if (parentCycle) throw new PlanError(`the parent tree has a cycle: ${parentCycle.join(' → ')}`);
}

/** A cycle in the directed graph (edges from → to) as a list of nodes, or null. */
export function findCycle(nodes: string[], edges: Array<[string, string]>): string[] | null {
  const out = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const [from, to] of edges) out.get(from)?.push(to);
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  // Iterative DFS: plans and goals can be long chains, deeper than a comfortable recursion.
  for (const root of nodes) {
    if (state.has(root)) continue;
    const frames: Array<{ node: string; next: number }> = [{ node: root, next: 0 }];
    state.set(root, 1);
    stack.push(root);
    while (frames.length) {
      const frame = frames[frames.length - 1];
      const targets = out.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const to = targets[frame.next++];
        const s = state.get(to);
        if (s === 1) return [...stack.slice(stack.indexOf(to)), to];
        if (s === undefined) {
          state.set(to, 1);
          stack.push(to);
          frames.push({ node: to, next: 0 });
        }
      } else {
        state.set(frame.node, 2);
        stack.pop();
        frames.pop();
      }
    }
  }
  return null;
}

const PLAN_FORMAT = `Answer with JSON only, in this form:
{"tasks": [{"key": "t1", "title": "...", "description": "...", "parent": null, "depends_on": [], "agent_id": null, "requires_approval": false}]}
- key: a short unique name for the task; parent: the key of the task it is a part of, or null;
- depends_on: keys of tasks that must be finished first (no cycles);
- agent_id: one of the agent ids listed, or null; requires_approval: true when a human should approve before it runs.
At most ${MAX_PLAN_TASKS} tasks.`;

export interface PlanAgent {
  id: string;
  name: string;
  description: string;
}

function agentLines(agents: PlanAgent[]): string {
  return agents.length ? agents.map((a) => `- ${a.id}: ${a.name}${a.description ? ` — ${a.description}` : ''}`).join('\n') : '(none; use null)';
}

export function decomposePrompt(goal: { title: string; description: string }, agents: PlanAgent[]): { system: string; user: string } {
  return {
    system: `You break goals into a tree of concrete tasks that agents can carry out.\n${PLAN_FORMAT}`,
    user: `Goal: ${goal.title}\n\n${goal.description}\n\nAgents:\n${agentLines(agents)}`,
  };
}

export interface ReplanContext {
  completed: Array<{ id: string; title: string; result: string | null }>;
  remaining: Array<{ title: string; description: string; status: string; error: string | null }>;
}

export function replanPrompt(goal: { title: string; description: string }, agents: PlanAgent[], ctx: ReplanContext, instructions?: string): { system: string; user: string } {
  const completed = ctx.completed.map((t) => `- ${t.id}: ${t.title}\n  result: ${truncate(t.result ?? '', 1000)}`).join('\n') || '(none)';
  const remaining = ctx.remaining.map((t) => `- [${t.status}] ${t.title}${t.error ? ` (error: ${truncate(t.error, 300)})` : ''}`).join('\n') || '(none)';
  return {
    system: `You revise the plan of a goal in the light of the results so far. Completed tasks stay as they are; you plan the remaining work only. A task may depend on completed tasks by their id.\n${PLAN_FORMAT}`,
    user: `Goal: ${goal.title}\n\n${goal.description}\n\nCompleted tasks:\n${completed}\n\nThe current remaining tasks:\n${remaining}\n\nAgents:\n${agentLines(agents)}${instructions ? `\n\nInstructions: ${instructions}` : ''}`,
  };
}

export const truncate = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
