import { and, count, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { db, now, sqlQuery } from '../../../db/client';
import { feedback } from '../../../db/schema/feedback';
import { agentNameOf } from '../../agents/agents/store';



/** The feedback table: one row per user and target. */
export type FeedbackRow = typeof feedback.$inferSelect;
export type FeedbackInsert = typeof feedback.$inferInsert;

/** Records (or replaces) a user's feedback on a target. */
export async function upsertFeedback(d1: D1Database, row: FeedbackInsert): Promise<FeedbackRow> {
  const [saved] = await db(d1)
    .insert(feedback)
    .values(row)
    .onConflictDoUpdate({
      target: [feedback.userId, feedback.targetType, feedback.targetId],
      set: {
        thumb: sql`excluded.thumb`,
        rating: sql`excluded.rating`,
        sentiment: sql`excluded.sentiment`,
        comment: sql`excluded.comment`,
        tags: sql`excluded.tags`,
        snapshot: sql`excluded.snapshot`,
        updatedAt: now(),
      },
    })
    .returning();
  return saved;
}

/** Feedback created in a range, of one agent, or given on one owner's agents and runs. */
export interface FeedbackFilter {
  range: { from: string; to: string };
  agentId?: string;
  ownerId?: string;
}

const feedbackWhere = (f: FeedbackFilter): SQL =>
  and(
    gte(feedback.createdAt, f.range.from),
    lt(feedback.createdAt, f.range.to),
    f.agentId ? eq(feedback.agentId, f.agentId) : undefined,
    f.ownerId ? eq(feedback.ownerId, f.ownerId) : undefined,
  )!;

// ── for agent-monitoring ──

export const sentimentTotals = (d1: D1Database, f: FeedbackFilter) =>
  sqlQuery(d1).all<{ positive: number; negative: number }>(
    sql`SELECT coalesce(sum(sentiment = 'positive'), 0) AS positive, coalesce(sum(sentiment = 'negative'), 0) AS negative FROM ${feedback} WHERE ${feedbackWhere(f)}`,
  );

export const sentimentByAgent = (d1: D1Database, f: FeedbackFilter) =>
  sqlQuery(d1).all<{ agent_id: string; positive: number; negative: number }>(
    sql`SELECT agent_id, coalesce(sum(sentiment = 'positive'), 0) AS positive, coalesce(sum(sentiment = 'negative'), 0) AS negative FROM ${feedback}
       WHERE agent_id IS NOT NULL AND ${feedbackWhere(f)} GROUP BY agent_id`,
  );

// ── analysis ──

const COUNTS = sql.raw(`count(*) AS total, coalesce(sum(sentiment = 'positive'), 0) AS positive, coalesce(sum(sentiment = 'neutral'), 0) AS neutral,
  coalesce(sum(sentiment = 'negative'), 0) AS negative, avg(rating) AS average_rating`);

export interface CountRow {
  total: number;
  positive: number;
  neutral: number;
  negative: number;
  average_rating: number | null;
}

/** GET /feedback/analysis: totals, per agent, top tags, per day, top tags per day; one batch. */
export async function feedbackAnalysis(d1: D1Database, f: FeedbackFilter) {
  const d = db(d1);
  const where = feedbackWhere(f);
  const [totals, agents, tags, days, dayTags] = await d.batch([
    sqlQuery(d1).all<CountRow>(sql`SELECT ${COUNTS} FROM ${feedback} WHERE ${where}`),
    sqlQuery(d1).all<CountRow & { agent_id: string; name: string | null }>(
      sql`SELECT agent_id, ${agentNameOf(feedback.agentId)} AS name, ${COUNTS} FROM ${feedback}
       WHERE ${where} AND agent_id IS NOT NULL GROUP BY agent_id ORDER BY total DESC, agent_id`,
    ),
    sqlQuery(d1).all<{ tag: string; count: number; negative: number }>(
      sql`SELECT j.value AS tag, count(*) AS count, coalesce(sum(sentiment = 'negative'), 0) AS negative FROM ${feedback}, json_each(${feedback.tags}) j
       WHERE ${where} GROUP BY j.value ORDER BY count DESC, tag LIMIT 20`,
    ),
    sqlQuery(d1).all<CountRow & { date: string }>(sql`SELECT substr(created_at, 1, 10) AS date, ${COUNTS} FROM ${feedback} WHERE ${where} GROUP BY date ORDER BY date`),
    sqlQuery(d1).all<{ date: string; tag: string; count: number; negative: number }>(
      sql`SELECT substr(${feedback.createdAt}, 1, 10) AS date, j.value AS tag, count(*) AS count, coalesce(sum(sentiment = 'negative'), 0) AS negative
       FROM ${feedback}, json_each(${feedback.tags}) j WHERE ${where} GROUP BY date, j.value ORDER BY date, count DESC, tag`,
    ),
  ]);
  return { totals: totals[0], agents, tags, days, dayTags };
}

const negativeWhere = (f: FeedbackFilter, tag?: string): SQL =>
  and(feedbackWhere(f), eq(feedback.sentiment, 'negative'), tag ? sql`EXISTS (SELECT 1 FROM json_each(${feedback.tags}) WHERE value = ${tag})` : undefined)!;

/** Negatively rated feedback, newest first: a page and the number matching (one round trip). */
export async function listNegative(d1: D1Database, f: FeedbackFilter, tag: string | undefined, limit: number, offset: number): Promise<{ rows: FeedbackRow[]; total: number }> {
  const where = negativeWhere(f, tag);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1).select().from(feedback).where(where).orderBy(desc(feedback.createdAt), feedback.id).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(feedback).where(where),
  ]);
  return { rows, total };
}

/** Negatively rated feedback, newest first, up to `max` rows (export). */
export const exportNegative = (d1: D1Database, f: FeedbackFilter, tag: string | undefined, max: number): Promise<FeedbackRow[]> =>
  db(d1).select().from(feedback).where(negativeWhere(f, tag)).orderBy(desc(feedback.createdAt), feedback.id).limit(max);
