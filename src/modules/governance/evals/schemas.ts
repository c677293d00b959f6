import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';
import { eventStream } from '../../../lib/schemas';

const Json = z.unknown();
const Metadata = z.record(z.string(), z.unknown()).default({});

export const DatasetRowInput = z
  .strictObject({
    input: z.union([z.string().min(1).max(100_000), z.record(z.string(), z.unknown())]).meta({ description: 'A message to an agent or model, or a workflow run’s inputs' }),
    expected: Json.optional().meta({ description: 'The expected answer: a string or number, or an object (its `output`; `tool_call: {name, arguments}` for the tool-call scorer)' }),
    metadata: Metadata,
  })
  .openapi('EvalDatasetRowInput');

const FeedbackSource = z
  .strictObject({
    agent_id: z.string().min(1).optional(),
    tag: z.string().trim().min(1).max(50).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    days: z.int().min(1).max(366).optional().meta({ description: 'The last N days (default 30)' }),
    limit: z.int().min(1).max(1000).default(200),
  })
  .meta({ description: 'Negatively rated answers (GET /feedback/negative-samples): each question becomes a row, the rejected answer goes to its metadata' });

/** Where rows come from; any combination, in this order. */
const RowSources = {
  rows: z.array(DatasetRowInput).max(1000).optional(),
  upload_id: z.string().min(1).optional().meta({ description: 'An upload (POST /uploads): JSON Lines (one row object per line) or CSV with columns input, expected and metadata (JSON)' }),
  from_feedback: FeedbackSource.optional(),
  message_ids: z.array(z.string().min(1)).max(200).optional().meta({ description: 'Chat messages of yours: a user message becomes a row; an assistant message, the question before it (its answer in metadata)' }),
};

export const CreateDatasetBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(''),
    ...RowSources,
  })
  .openapi('CreateEvalDataset');

export const AddRowsBody = z
  .strictObject(RowSources)
  .refine((b) => b.rows || b.upload_id || b.from_feedback || b.message_ids, { message: 'give rows, upload_id, from_feedback or message_ids', path: ['rows'] })
  .openapi('AddEvalDatasetRows');

export const RemoveRowsBody = z.strictObject({ row_ids: z.array(z.string().min(1)).min(1).max(1000) }).openapi('RemoveEvalDatasetRows');

export const DatasetSchema = z
  .object({
    id: z.string(),
    owner_id: z.string(),
    name: z.string(),
    description: z.string(),
    version: z.int().meta({ description: 'The current version; every change of rows makes a new one' }),
    row_count: z.int(),
    versions: z.array(z.object({ version: z.int(), row_count: z.int(), change: z.string(), created_at: z.string() })).optional(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('EvalDataset');

export const DatasetRowSchema = z
  .object({
    id: z.string(),
    position: z.int(),
    input: Json,
    expected: Json,
    metadata: z.record(z.string(), z.unknown()),
    added_version: z.int(),
    removed_version: z.int().nullable(),
  })
  .openapi('EvalDatasetRow');

export const DatasetListQuery = PaginationQuery.extend({ search: z.string().max(200).optional() });
export const RowsQuery = PaginationQuery.extend({ version: z.coerce.number().int().min(1).optional().meta({ description: 'Default: the current version' }) });

const JudgeModel = z.strictObject({ provider: z.string().min(1).optional(), model_name: z.string().min(1).optional(), model_config_id: z.string().min(1).optional() });
const named = { name: z.string().trim().min(1).max(100).optional().meta({ description: 'Default: the type; unique within a run' }) };

export const ScorerSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('exact_match'), ...named, case_sensitive: z.boolean().optional() }),
    z.strictObject({ type: z.literal('contains'), ...named, value: z.string().min(1).optional().meta({ description: 'Default: the expected answer' }), case_sensitive: z.boolean().optional() }),
    z.strictObject({ type: z.literal('regex'), ...named, pattern: z.string().min(1).max(1000), flags: z.string().regex(/^[imsu]*$/).optional() }),
    z.strictObject({ type: z.literal('json_schema'), ...named, schema: z.record(z.string(), z.unknown()) }),
    z.strictObject({ type: z.literal('numeric'), ...named, tolerance: z.number().min(0).optional(), relative: z.boolean().optional() }),
    z.strictObject({ type: z.literal('semantic_similarity'), ...named, threshold: z.number().min(0).max(1).optional() }),
    z.strictObject({ type: z.literal('tool_call'), ...named, tool: z.string().min(1).optional(), arguments: z.record(z.string(), z.unknown()).optional() }),
    z.strictObject({ type: z.literal('latency'), ...named, max_ms: z.int().min(0) }),
    z.strictObject({ type: z.literal('cost'), ...named, max_cost: z.number().min(0) }),
    z.strictObject({ type: z.literal('llm_judge'), ...named, rubric: z.string().min(1).max(8000), threshold: z.number().min(0).max(1).optional(), model: JudgeModel.optional() }),
  ])
  .openapi('EvalScorer');

export const TargetSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('agent'), agent_id: z.string().min(1), version: z.int().min(1).optional().meta({ description: 'Default: the current version (pinned when the run is created)' }) }),
    z.strictObject({ type: z.literal('workflow'), workflow_id: z.string().min(1) }),
    z.strictObject({
      type: z.literal('model'),
      provider: z.string().min(1).optional(),
      model_name: z.string().min(1).optional(),
      model_config_id: z.string().min(1).optional(),
      temperature: z.number().min(0).max(2).optional(),
      system_prompt: z.string().max(20_000).optional(),
    }),
  ])
  .openapi('EvalTarget');

export const CreateRunBody = z
  .strictObject({
    dataset_id: z.string().min(1),
    dataset_version: z.int().min(1).optional().meta({ description: 'Default: the current version' }),
    name: z.string().max(200).default(''),
    target: TargetSchema,
    scorers: z.array(ScorerSchema).min(1).max(10),
    concurrency: z.int().min(1).max(8).default(4).meta({ description: 'Rows of this run executed at once' }),
    price: z
      .strictObject({ input_per_million: z.number().min(0), output_per_million: z.number().min(0) })
      .optional()
      .meta({ description: 'Token prices for the cost column and the cost scorer (without them, cost is 0)' }),
  })
  .openapi('CreateEvalRun');

const ScorerSummary = z.object({ scorer: z.string(), mean: z.number(), pass_rate: z.number() });

export const RunSchema = z
  .object({
    id: z.string(),
    owner_id: z.string(),
    dataset_id: z.string(),
    dataset_version: z.int(),
    name: z.string(),
    target: z.record(z.string(), z.unknown()),
    scorers: z.array(z.record(z.string(), z.unknown())),
    concurrency: z.int(),
    status: z.enum(['queued', 'running', 'completed', 'cancelled', 'failed']),
    total: z.int(),
    done: z.int(),
    passed: z.int(),
    errors: z.int(),
    summary: z.object({ pass_rate: z.number(), scorers: z.array(ScorerSummary), latency_ms_mean: z.number(), tokens: z.int(), cost: z.number() }).nullable(),
    error: z.string().nullable(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('EvalRun');

/** The run's progress stream: `progress` while it goes on, then `done` with the run. */
export const RunEvents = eventStream('EvalRun', {
  progress: z.object({ status: RunSchema.shape.status, done: z.int(), total: z.int(), passed: z.int(), errors: z.int() }),
  done: RunSchema,
});

export const ScoreSchema = z.object({ scorer: z.string(), score: z.number(), passed: z.boolean(), detail: z.string().optional() });

export const ResultSchema = z
  .object({
    row_id: z.string(),
    position: z.int(),
    output: z.string().nullable(),
    tool_calls: z.array(z.object({ name: z.string(), arguments: z.unknown() })),
    scores: z.array(ScoreSchema),
    passed: z.boolean(),
    latency_ms: z.int(),
    prompt_tokens: z.int(),
    completion_tokens: z.int(),
    cost: z.number(),
    error: z.string().nullable(),
  })
  .openapi('EvalResult');

export const RunListQuery = PaginationQuery.extend({
  dataset_id: z.string().min(1).optional(),
  status: z.enum(['queued', 'running', 'completed', 'cancelled', 'failed']).optional(),
});
export const ResultsQuery = PaginationQuery.extend({ passed: z.enum(['true', 'false']).optional() });

export const CompareQuery = z.object({
  base_run_id: z.string().min(1),
  candidate_run_id: z.string().min(1),
  seed: z.coerce.number().int().min(0).default(42).meta({ description: 'Seed of the bootstrap (same runs and seed: same interval)' }),
});

const Interval = z.object({ low: z.number(), high: z.number(), level: z.number(), resamples: z.int(), seed: z.int() });

export const CompareSchema = z
  .object({
    base_run_id: z.string(),
    candidate_run_id: z.string(),
    dataset_id: z.string(),
    paired_rows: z.int().meta({ description: 'Rows scored in both runs' }),
    pass_rate: z.object({ base: z.number(), candidate: z.number(), delta: z.number(), ci: Interval }),
    scorers: z.array(z.object({ scorer: z.string(), base: z.number(), candidate: z.number(), delta: z.number(), ci: Interval })),
    rows: z.array(
      z.object({
        row_id: z.string(),
        position: z.int(),
        base_passed: z.boolean(),
        candidate_passed: z.boolean(),
        deltas: z.record(z.string(), z.number()).meta({ description: 'candidate − base score, per scorer' }),
      }),
    ),
    regressions: z.array(z.object({ row_id: z.string(), position: z.int(), base_output: z.string().nullable(), candidate_output: z.string().nullable(), failed_scorers: z.array(z.string()) })),
    improvements: z.array(z.object({ row_id: z.string(), position: z.int() })),
  })
  .openapi('EvalComparison');

export type DatasetRowInputT = z.infer<typeof DatasetRowInput>;
export const GateBody = z
  .strictObject({
    dataset_id: z.string().min(1).meta({ description: 'One of your datasets; a deploy scores its current version' }),
    scorer: ScorerSchema,
    min_score: z.number().min(0).max(1).meta({ description: 'The lowest mean score of the scorer over the dataset that lets a deploy through' }),
  })
  .openapi('PutEvalGate');

export const GateSchema = z
  .object({
    agent_id: z.string(),
    owner_id: z.string(),
    dataset_id: z.string(),
    scorer: z.record(z.string(), z.unknown()),
    min_score: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('EvalGate');

export const WorkflowGateSchema = z
  .object({
    workflow_id: z.string(),
    owner_id: z.string(),
    dataset_id: z.string(),
    scorer: z.record(z.string(), z.unknown()),
    min_score: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('EvalWorkflowGate');

export type CreateDataset = z.infer<typeof CreateDatasetBody>;
export type AddRows = z.infer<typeof AddRowsBody>;
export type CreateRun = z.infer<typeof CreateRunBody>;
export type Target = z.infer<typeof TargetSchema>;
export type PutGate = z.infer<typeof GateBody>;
export type Gate = z.infer<typeof GateSchema>;
export type WorkflowGate = z.infer<typeof WorkflowGateSchema>;
export type Run = z.infer<typeof RunSchema>;
export type RunSummary = NonNullable<Run['summary']>;
