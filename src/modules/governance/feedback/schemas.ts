import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';
import { TimeRangeQuery } from '../../../lib/time-range';

const Tag = z.string().trim().min(1).max(50);

export const CreateFeedbackBody = z
  .object({
    target_type: z.enum(['message', 'execution']).meta({ description: 'An assistant chat message, or a workflow/agent execution' }),
    target_id: z.string().min(1).max(200),
    thumb: z.enum(['up', 'down']).optional(),
    rating: z.int().min(1).max(5).optional(),
    comment: z.string().trim().max(4000).default(''),
    tags: z
      .array(Tag)
      .max(20)
      .default([])
      .transform((tags) => [...new Set(tags.map((t) => t.toLowerCase()))]),
  })
  .refine((b) => b.thumb !== undefined || b.rating !== undefined, { message: 'give a thumb (up/down) or a rating (1-5)', path: ['thumb'] })
  .openapi('CreateFeedback');

export const FeedbackSchema = z
  .object({
    id: z.string(),
    user_id: z.string(),
    owner_id: z.string(),
    target_type: z.enum(['message', 'execution']),
    target_id: z.string(),
    agent_id: z.string().nullable(),
    session_id: z.string().nullable(),
    thumb: z.enum(['up', 'down']).nullable(),
    rating: z.int().nullable(),
    sentiment: z.enum(['positive', 'neutral', 'negative']),
    comment: z.string(),
    tags: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Feedback');

export const AnalysisQuery = TimeRangeQuery.extend({ agent_id: z.string().min(1).optional() });

const Counts = {
  total: z.int(),
  positive: z.int(),
  neutral: z.int(),
  negative: z.int(),
  satisfaction: z.number().nullable().meta({ description: 'positive / (positive + negative); null without either' }),
  average_rating: z.number().nullable(),
};
const TagCount = z.object({ tag: z.string(), count: z.int(), negative: z.int() });

export const AnalysisSchema = z
  .object({
    scope: z.enum(['all', 'own']),
    from: z.string(),
    to: z.string(),
    ...Counts,
    per_agent: z.array(z.object({ agent_id: z.string(), name: z.string().nullable(), ...Counts })),
    top_tags: z.array(TagCount),
    by_day: z.array(z.object({ date: z.string(), ...Counts, top_tags: z.array(TagCount) })),
  })
  .openapi('FeedbackAnalysis');

export const NegativeSamplesQuery = PaginationQuery.extend(TimeRangeQuery.shape).extend({
  agent_id: z.string().min(1).optional(),
  tag: Tag.optional(),
  format: z.enum(['json', 'jsonl']).default('json').meta({ description: 'jsonl: every matching sample (up to 5000) as a downloadable JSON Lines file' }),
});

export const NegativeSampleSchema = z
  .object({
    id: z.string(),
    agent_id: z.string().nullable(),
    target_type: z.enum(['message', 'execution']),
    target_id: z.string(),
    thumb: z.enum(['up', 'down']).nullable(),
    rating: z.int().nullable(),
    comment: z.string(),
    tags: z.array(z.string()),
    input: z.string().nullable().meta({ description: 'The question / run input' }),
    output: z.string().nullable().meta({ description: 'The rated answer / run output' }),
    context: z.array(z.object({ role: z.string(), content: z.string().nullable() })).meta({ description: 'The conversation before the answer' }),
    created_at: z.string(),
  })
  .openapi('NegativeSample');

export type CreateFeedback = z.infer<typeof CreateFeedbackBody>;
export type Feedback = z.infer<typeof FeedbackSchema>;
