import { createRoute, z } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema } from '../../../lib/pagination';
import { errors, jsonBody, jsonContent } from '../../../lib/schemas';
import { AnalysisQuery, AnalysisSchema, CreateFeedbackBody, FeedbackSchema, NegativeSampleSchema, NegativeSamplesQuery } from './schemas';

const tags = ['feedback'];

export const record = createRoute({
  ...authenticated,
  tags,
  method: 'post',
  path: '/',
  summary: 'Record feedback on an assistant message of your conversation or on your execution (again: replaces it)',
  request: { body: jsonBody(CreateFeedbackBody) },
  responses: { 201: jsonContent(FeedbackSchema, 'The feedback'), ...errors(401, 404, 422) },
});

export const analysis = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/analysis',
  summary: 'Feedback analysis (default the last 30 days): satisfaction per agent, common tags, by day with tags over time',
  request: { query: AnalysisQuery },
  responses: { 200: jsonContent(AnalysisSchema, 'The analysis'), ...errors(401, 404, 422) },
});

export const negativeSamples = createRoute({
  ...authenticated,
  tags,
  method: 'get',
  path: '/negative-samples',
  summary: 'Negatively rated answers with their question and context, for improving prompts; format=jsonl exports them',
  request: { query: NegativeSamplesQuery },
  responses: {
    200: {
      description: 'A page of samples, or (format=jsonl) a JSON Lines file',
      content: {
        'application/json': { schema: paginatedSchema(NegativeSampleSchema, 'NegativeSampleList') },
        'application/x-ndjson': { schema: z.string() },
      },
    },
    ...errors(401),
    ...errors(404),
    ...errors(422),
  },
});
