import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { authorize, hasPermission } from '../../identity/permissions/authorize';
import { authorizeExecution } from '../../workflows/executions/service';
import { findExecution } from '../../workflows/executions/store';
import { findRatedMessage, messagesBefore } from '../../agents/agent-chat/store';
import { notFound, validationError } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import { resolveRange, type TimeRange } from '../../../lib/time-range';
import type { CreateFeedback, Feedback } from './schemas';
import * as store from './store';
import type { CountRow, FeedbackFilter, FeedbackRow } from './store';

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
  const m = await findRatedMessage(env.DB, id);
  if (!m || (m.userId !== user.id && !isAdmin(user))) throw notFound('Message');
  if (m.role !== 'assistant') throw validationError('body.target_id: only assistant messages can be rated');
  const results = await messagesBefore(env.DB, m.sessionId, m.seq, CONTEXT_MESSAGES);
  const question = [...results].reverse().find((r) => r.role === 'user')?.content ?? null;
  return {
    // The agent's owner is who improves it, so the rating is theirs to analyse.
    owner_id: m.agentOwner ?? m.userId,
    agent_id: m.agentId,
    session_id: m.sessionId,
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

const toFeedback = (r: FeedbackRow): Feedback => ({
  id: r.id,
  user_id: r.userId,
  owner_id: r.ownerId,
  target_type: r.targetType,
  target_id: r.targetId,
  agent_id: r.agentId,
  session_id: r.sessionId,
  thumb: r.thumb,
  rating: r.rating,
  sentiment: r.sentiment,
  comment: r.comment,
  tags: JSON.parse(r.tags),
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

/** Records (or replaces) the caller's feedback on a target. */
export async function recordFeedback(env: Env, user: AuthUser, input: CreateFeedback): Promise<Feedback> {
  const target = input.target_type === 'message' ? await messageTarget(env, user, input.target_id) : await executionTarget(env, user, input.target_id);
  const row = await store.upsertFeedback(env.DB, {
    id: crypto.randomUUID(),
    userId: user.id,
    ownerId: target.owner_id,
    targetType: input.target_type,
    targetId: input.target_id,
    agentId: target.agent_id,
    sessionId: target.session_id,
    thumb: input.thumb ?? null,
    rating: input.rating ?? null,
    sentiment: sentimentOf(input),
    comment: input.comment,
    tags: JSON.stringify(input.tags),
    snapshot: JSON.stringify(target.snapshot),
  });
  return toFeedback(row);
}

/**
 * Which feedback the caller analyses: one agent's (they must be able to read it), else what was
 * given on their agents and runs (everyone's with feedback:read).
 */
async function scope(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string }) {
  const range = resolveRange(q, 30);
  const all = await hasPermission(env, user, 'feedback:read');
  const filter: FeedbackFilter = { range };
  if (q.agent_id) {
    await authorize(env, user, 'agent', q.agent_id, 'read');
    filter.agentId = q.agent_id;
  } else if (!all) {
    filter.ownerId = user.id;
  }
  return { scope: (all || q.agent_id ? 'all' : 'own') as 'all' | 'own', range, filter };
}

const withSatisfaction = <T extends CountRow>(r: T) => ({ ...r, satisfaction: r.positive + r.negative ? r.positive / (r.positive + r.negative) : null });

export async function analysis(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string }) {
  const s = await scope(env, user, q);
  const { totals, agents, tags, days, dayTags } = await store.feedbackAnalysis(env.DB, s.filter);
  const tagsByDay = new Map<string, Array<{ tag: string; count: number; negative: number }>>();
  for (const r of dayTags) {
    const list = tagsByDay.get(r.date) ?? [];
    if (list.length < 5) list.push({ tag: r.tag, count: r.count, negative: r.negative });
    tagsByDay.set(r.date, list);
  }
  return {
    scope: s.scope,
    ...s.range,
    ...withSatisfaction(totals),
    per_agent: agents.map(withSatisfaction),
    top_tags: tags,
    by_day: days.map((d) => ({ ...withSatisfaction(d), top_tags: tagsByDay.get(d.date) ?? [] })),
  };
}

function toSample(r: FeedbackRow) {
  const snap = JSON.parse(r.snapshot) as Snapshot;
  return {
    id: r.id,
    agent_id: r.agentId,
    target_type: r.targetType,
    target_id: r.targetId,
    thumb: r.thumb,
    rating: r.rating,
    comment: r.comment,
    tags: JSON.parse(r.tags) as string[],
    input: snap.input,
    output: snap.output,
    context: snap.context,
    created_at: r.createdAt,
  };
}

/** The negatively rated answers with their context: a page, or everything as JSON Lines. */
export async function negativeSamples(env: Env, user: AuthUser, q: TimeRange & Pagination & { agent_id?: string; tag?: string; format: 'json' | 'jsonl' }) {
  const s = await scope(env, user, q);
  const tag = q.tag?.toLowerCase();
  if (q.format === 'jsonl') {
    const results = await store.exportNegative(env.DB, s.filter, tag, MAX_EXPORT);
    return { jsonl: results.map((r) => JSON.stringify(toSample(r))).join('\n') + (results.length ? '\n' : '') };
  }
  const { limit, offset } = pageBounds(q);
  const { rows, total } = await store.listNegative(env.DB, s.filter, tag, limit, offset);
  return { page: paginated(rows.map(toSample), total, q) };
}

/** Up to `max` negatively rated answers with their context, newest first, as GET /negative-samples scopes them (evals datasets). */
export async function negativeSampleList(env: Env, user: AuthUser, q: TimeRange & { agent_id?: string; tag?: string }, max: number) {
  const s = await scope(env, user, q);
  const rows = await store.exportNegative(env.DB, s.filter, q.tag?.toLowerCase(), Math.min(max, MAX_EXPORT));
  return rows.map(toSample);
}
