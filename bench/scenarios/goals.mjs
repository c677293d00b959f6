import { newUser } from '../client.mjs';
import { workerdCpuMs } from '../harness.mjs';

/**
 * Issue 8: goals executed through the local Queue (Miniflare runs the consumer). A goal of 100
 * tasks in a dependency chain (each task enqueues the next when it finishes) and one of 100
 * independent tasks (all enqueued at once, consumed in concurrent batches). Printed: wall time
 * from execute-async to the goal completing, tasks per second, and the task_runs count per task
 * read from D1, which proves each task ran exactly once; and the CPU time workerd spent per task
 * (the polling's own cost taken out), which a loaded machine disturbs less than the wall time.
 */
export default async function goals(ctx) {
  const user = await newUser(ctx, 'goals');
  const token = user.token;
  const db = await ctx.mf.getD1Database('DB');

  async function run(name, setup) {
    const goal = await ctx.api('/api/v1/goals', { token, json: { title: name, description: '' } });
    await setup(goal);
    const started = performance.now();
    const cpuBefore = workerdCpuMs();
    const { enqueued } = await ctx.api(`/api/v1/goals/${goal.id}/execute-async`, { token, method: 'POST' });
    let status = 'active';
    let polls = 0;
    const poll = async () => {
      polls++;
      return (await ctx.api(`/api/v1/goals/${goal.id}`, { token })).status;
    };
    while (status === 'active') {
      await new Promise((r) => setTimeout(r, 20));
      status = await poll();
      if (performance.now() - started > 300_000) throw new Error(`${name}: not finished after 5 minutes`);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuUsed = workerdCpuMs() - cpuBefore;
    // What the polling cost, measured after the goal: the same request, as many times again.
    const pollsWhileRunning = polls;
    const pollCpuBefore = workerdCpuMs();
    for (let i = 0; i < pollsWhileRunning; i++) await poll();
    const cpuPerTask = (cpuUsed - (workerdCpuMs() - pollCpuBefore)) / 100;
    const runs = await db
      .prepare('SELECT count(*) AS runs, count(DISTINCT task_id) AS tasks, max(n) AS most FROM (SELECT task_id, count(*) AS n FROM task_runs WHERE goal_id = ? GROUP BY task_id) JOIN task_runs USING (task_id)')
      .bind(goal.id)
      .first();
    const completed = await db.prepare("SELECT count(*) AS n FROM tasks WHERE goal_id = ? AND status = 'completed'").bind(goal.id).first();
    ctx.print(
      `${name.padEnd(34)} ${status}: ${seconds.toFixed(2)} s wall, ${(100 / seconds).toFixed(1)} tasks/s, workerd CPU ${cpuPerTask.toFixed(1)} ms a task, first enqueue ${enqueued}; ` +
        `${completed.n}/100 tasks completed, ${runs.runs} runs for ${runs.tasks} distinct tasks (most runs of one task: ${runs.most})`,
    );
  }

  await run('100-task dependency chain', async (goal) => {
    const description = Array.from({ length: 100 }, (_, i) => `step ${i + 1}`).join('\n');
    await ctx.api(`/api/v1/goals/${goal.id}`, { token, method: 'PUT', json: { description } });
    await ctx.api(`/api/v1/goals/${goal.id}/decompose`, { token, method: 'POST' });
  });

  await run('100 independent tasks', async (goal) => {
    for (let i = 0; i < 100; i++) await ctx.api('/api/v1/tasks', { token, json: { goal_id: goal.id, title: `task ${i + 1}` } });
  });
}
