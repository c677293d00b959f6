import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { authorize, hasPermission } from '../../identity/permissions/authorize';
import { authorizeExecution } from '../../workflows/executions/service';
import { findExecution } from '../../workflows/executions/store';
import { NOW_SQL } from '../../../lib/d1';
import { notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { resolveRange, type TimeRange } from '../../../lib/time-range';
import type { CreateFeedback, Feedback } from './schemas';

const CONTEXT_MESSAGES = 6;
const MAX_EXPORT = 5000;

interface Snapshot {
  input: string | null;
  output: string | null;
  context: Array<{ role: string; content: string | null }>;
}

interface Target {
  owner_id: string;
  agent_id: string | null;
  session_id: string | null;
  snapshot: Snapshot;
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));

/** An assistant message of the caller's own conversation, with the conversation before it. */
async function messageTarget(env: Env, user: AuthUser, id: string): Promise<Target> {
  const m = await env.DB.prepare(
    `SELECT m.id, m.role, m.content, m.seq, m.session_id, s.user_id, s.agent_id, a.owner_id AS agent_owner
       FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id LEFT JOIN agents a ON a.id = s.agent_id WHERE m.id = ?`,
  )
    .bind(id)
    .first<{ role: string; content: string | null; seq: number; session_id: string; user_id: string; agent_id: string | null; agent_owner: string | null }>();
  if (!m || (m.user_id !== user.id && !isAdmin(user))) throw notFound('Message');
  if (m.role !== 'assistant') throw validationError('body.target_id: only assistant messages can be rated');
  const { results } = await env.DB.prepare(
    `SELECT role, content FROM (SELECT role, content, seq FROM chat_messages WHERE session_id = ? AND seq < ? AND role IN ('user', 'assistant')
       ORDER BY seq DESC LIMIT ${CONTEXT_MESSAGES}) ORDER BY seq`,
  )
    .bind(m.session_id, m.seq)
    .all<{ role: string; content: string | null }>();
  const question = [...results].reverse().find((r) => r.role === 'user')?.content ?? null;
  return {
    // The agent's owner is who improves it, so the rating is theirs to analyse.
    owner_id: m.agent_owner ?? m.user_id,
    agent_id: m.agent_id,
    session_id: m.session_id,
    snapshot: { input: question, output: m.content, context: results },
  };
}

/** A workflow run or an agent run (`executions`) the caller may read (authorizeExecution). */
async function executionTarget(env: Env, user: AuthUser, id: string): Promise<Target> {
  const e = await authorizeExecution(env, user, await findExecution(env.DB, id), 'read');
  if (e.mode) {
    // An agent run (POST /agents/{id}/execute): its input text and final output.
    const input = (JSON.parse(e.inputs) as { input?: string }).input ?? null;
    const output = e.outputs ? ((JSON.parse(e.outputs) as { output?: string }).output ?? null) : null;
    return { owner_id: e.ownerId, agent_id: e.agentId, session_id: null, snapshot: { input: text(input), output: text(output ?? e.error), context: [] } };
  }
  return { owner_id: e.ownerId, agent_id: e.agentId, session_id: null, snapshot: { input: e.inputs, output: e.outputs ?? e.error, context: [] } };
}

function sentimentOf(input: Pick<CreateFeedback, 'thumb' | 'rating'>): 'positive' | 'neutral' | 'negative' {
  if (input.thumb) return input.thumb === 'up' ? 'positive' : 'negative';
  return input.rating! >= 4 ? 'positive' : input.rating! <= 2 ? 'negative' : 'neutral';
}

interface FeedbackRow extends Omit<Feedback, 'tags'> {
  tags: string;
  snapshot: string;
}

const toFeedback = ({ snapshot: _snapshot, ...r }: FeedbackRow): Feedback => ({ ...r, tags: JSON.parse(r.tags) });

/** Records (or replaces) the caller's feedback on a target. */
export async function recordFeedback(env: Env, user: AuthUser, input: CreateFeedback): Promise<Feedback> {
  const target = input.target_type === 'message' ? await messageTarget(env, user, input.target_id) : await executionTarget(env, user, input.target_id);
  const row = await env.DB.prepare(
    `INSERT INTO feedback (id, user_id, owner_id, target_type, target_id, agent_id, session_id, thumb, rating, sentiment, comment, tags, snapshot)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (user_id, target_type, target_id) DO UPDATE SET thumb = excluded.thumb, rating = excluded.rating, sentiment = excluded.sentiment,
       comment = excluded.comment, tags = excluded.tags, snapshot = excluded.snapshot, updated_at = ${NOW_SQL}
     RETURNING *`,
  )
    .bind(
      crypto.randomUUID(),
      user.id,
      target.owner_id,
      input.target_type,
      input.target_id,
      target.agent_id,
      target.session_id,
      input.thumb ?? null,
      input.rating ?? null,
      sentimentOf(input),
      input.comment,
      JSON.stringify(input.tags),
      JSON.stringify(target.snapshot),
    )
    .first<FeedbackRow>();
  return toFeedback(row!);
}

/**
 * Which feedback the caller analyses: one agent's (they must be able to read it), else what was
 * given on their agents and runs (everyone's with feedback:read).
 */
async function scope(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string }, alias = '') {
  const range = resolveRange(q, 30);
  const clauses = [`${alias}created_at >= ?`, `${alias}created_at < ?`];
  const binds: unknown[] = [range.from, range.to];
  const all = await hasPermission(env, user, 'feedback:read');
  if (q.agent_id) {
    await authorize(env, user, 'agent', q.agent_id, 'read');
    clauses.push(`${alias}agent_id = ?`);
    binds.push(q.agent_id);
  } else if (!all) {
    clauses.push(`${alias}owner_id = ?`);
    binds.push(user.id);
  }
  return { scope: (all || q.agent_id ? 'all' : 'own') as 'all' | 'own', range, where: `WHERE ${clauses.join(' AND ')}`, binds };
}

const COUNTS = `count(*) AS total, coalesce(sum(sentiment = 'positive'), 0) AS positive, coalesce(sum(sentiment = 'neutral'), 0) AS neutral,
  coalesce(sum(sentiment = 'negative'), 0) AS negative, avg(rating) AS average_rating`;

interface CountRow {
  total: number;
  positive: number;
  neutral: number;
  negative: number;
  average_rating: number | null;
}

const withSatisfaction = <T extends CountRow>(r: T) => ({ ...r, satisfaction: r.positive + r.negative ? r.positive / (r.positive + r.negative) : null });

export async function analysis(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string }) {
  const s = await scope(env, user, q);
  const sf = await scope(env, user, q, 'f.');
  const [totals, agents, tags, days, dayTags] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT ${COUNTS} FROM feedback ${s.where}`).bind(...s.binds),
    env.DB.prepare(
      `SELECT f.agent_id, a.name, ${COUNTS.replace(/\b(sentiment|rating)\b/g, 'f.$1')} FROM feedback f LEFT JOIN agents a ON a.id = f.agent_id
       ${sf.where} AND f.agent_id IS NOT NULL GROUP BY f.agent_id ORDER BY total DESC, f.agent_id`,
    ).bind(...sf.binds),
    env.DB.prepare(
      `SELECT j.value AS tag, count(*) AS count, coalesce(sum(f.sentiment = 'negative'), 0) AS negative FROM feedback f, json_each(f.tags) j
       ${sf.where} GROUP BY j.value ORDER BY count DESC, tag LIMIT 20`,
    ).bind(...sf.binds),
    env.DB.prepare(`SELECT substr(created_at, 1, 10) AS date, ${COUNTS} FROM feedback ${s.where} GROUP BY date ORDER BY date`).bind(...s.binds),
    env.DB.prepare(
      `SELECT substr(f.created_at, 1, 10) AS date, j.value AS tag, count(*) AS count, coalesce(sum(f.sentiment = 'negative'), 0) AS negative
       FROM feedback f, json_each(f.tags) j ${sf.where} GROUP BY date, j.value ORDER BY date, count DESC, tag`,
    ).bind(...sf.binds),
  ]);
  const tagsByDay = new Map<string, Array<{ tag: string; count: number; negative: number }>>();
  for (const r of dayTags.results as Array<{ date: string; tag: string; count: number; negative: number }>) {
    const list = tagsByDay.get(r.date) ?? [];
    if (list.length < 5) list.push({ tag: r.tag, count: r.count, negative: r.negative });
    tagsByDay.set(r.date, list);
  }
  return {
    scope: s.scope,
    ...s.range,
    ...withSatisfaction(totals.results[0] as unknown as CountRow),
    per_agent: (agents.results as unknown as Array<CountRow & { agent_id: string; name: string | null }>).map(withSatisfaction),
    top_tags: tags.results as Array<{ tag: string; count: number; negative: number }>,
    by_day: (days.results as unknown as Array<CountRow & { date: string }>).map((d) => ({ ...withSatisfaction(d), top_tags: tagsByDay.get(d.date) ?? [] })),
  };
}

function toSample(r: FeedbackRow) {
  const snap = JSON.parse(r.snapshot) as Snapshot;
  return {
    id: r.id,
    agent_id: r.agent_id,
    target_type: r.target_type,
    target_id: r.target_id,
    thumb: r.thumb,
    rating: r.rating,
    comment: r.comment,
    tags: JSON.parse(r.tags) as string[],
    input: snap.input,
    output: snap.output,
    context: snap.context,
    created_at: r.created_at,
  };
}

/** The negatively rated answers with their context: a page, or everything as JSON Lines. */
export async function negativeSamples(env: Env, user: AuthUser, q: TimeRange & Pagination & { agent_id?: string; tag?: string; format: 'json' | 'jsonl' }) {
  const s = await scope(env, user, q);
  let where = `${s.where} AND sentiment = 'negative'`;
  const binds = [...s.binds];
  if (q.tag) {
    where += ' AND EXISTS (SELECT 1 FROM json_each(feedback.tags) WHERE value = ?)';
    binds.push(q.tag.toLowerCase());
  }
  if (q.format === 'jsonl') {
    const { results } = await env.DB.prepare(`SELECT * FROM feedback ${where} ORDER BY created_at DESC, id LIMIT ${MAX_EXPORT}`).bind(...binds).all<FeedbackRow>();
    return { jsonl: results.map((r) => JSON.stringify(toSample(r))).join('\n') + (results.length ? '\n' : '') };
  }
  const { limit, offset } = pageBounds(q);
  const [rows, count] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`SELECT * FROM feedback ${where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`).bind(...binds, limit, offset),
    env.DB.prepare(`SELECT count(*) AS n FROM feedback ${where}`).bind(...binds),
  ]);
  return { page: paginated((rows.results as unknown as FeedbackRow[]).map(toSample), (count.results[0] as { n: number }).n, q) };
}
