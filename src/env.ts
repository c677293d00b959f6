import type { ChatSessionActor, CollabRoomActor, ExecutionActor } from '../durable-objects/contracts';
import type { EvalRowsMessage, FeishuMessage, IngestMessage, RecordMessage, ScheduleRunMessage, TaskMessage, TraceExportMessage } from './queues';
import type Runtime from '../workers/runtime/src/index';

/** The bindings and variables the worker receives (see wrangler.toml); per-request values: src/lib/context.ts. */
export interface Env {
  DB: D1Database;
  /** One Execution Durable Object per workflow run (durable-objects/execution.ts). */
  EXECUTION: DurableObjectNamespace<ExecutionActor>;
  /** One ChatSession Durable Object per chat session (durable-objects/chat-session.ts). */
  CHAT_SESSION: DurableObjectNamespace<ChatSessionActor>;
  ASSETS?: Fetcher;
  ENVIRONMENT?: string;
  /** HS256 key for access tokens; generated and kept in D1 outside production. */
  JWT_SECRET?: string;
  /** AES-GCM key for secrets at rest (API keys, tool headers); same rule as JWT_SECRET. */
  ENCRYPTION_KEY?: string;
  /** Access token lifetime in seconds (default 86400). */
  JWT_TTL_SECONDS?: string;
  DEFAULT_MODEL_PROVIDER?: string;
  DEFAULT_MODEL_NAME?: string;
  /** Workers AI (the `workers-ai` model provider); only bound in production, absent offline. */
  AI?: Ai;
  /** Extra ports outbound requests may use besides 80/443, comma-separated. */
  OUTBOUND_ALLOWED_PORTS?: string;
  /** Producer of `tiangong-tasks`: goal tasks to run (consumed by this worker's queue handler). */
  TASKS_QUEUE: Queue<TaskMessage>;
  /** Uploaded files (R2). */
  FILES: R2Bucket;
  /** Producer of the document-ingestion queue. */
  INGEST_QUEUE: Queue<IngestMessage>;
  /** The knowledge-base vector index (production only); offline a local index in D1 stands in. */
  VECTORIZE?: Vectorize;
  /** Dimensions of the VECTORIZE index (default 1024, bge-m3). */
  VECTORIZE_DIMENSIONS?: string;
  /** Largest accepted upload in bytes (default 20 MiB). */
  UPLOAD_MAX_BYTES?: string;
  /** Share (0..1) of successful reads whose request line is kept in system_logs; default 1. */
  REQUEST_LOG_SAMPLE_RATE?: string;
  /** Days system_logs rows are kept (default 14); audit_logs: AUDIT_LOG_RETENTION_DAYS (default 365). */
  SYSTEM_LOG_RETENTION_DAYS?: string;
  /** Days a finished run's Execution object storage is kept (default 7; 0: deleted at once). D1 keeps the run. */
  EXECUTION_STORAGE_RETENTION_DAYS?: string;
  /** Days a finished run's record (execution, node rows, log entries, approvals) stays in D1 (default 90). */
  EXECUTION_RECORD_RETENTION_DAYS?: string;
  AUDIT_LOG_RETENTION_DAYS?: string;
  /**
   * Producer of `tiangong-audit`: each API request's audit row and log lines (src/lib/audit.ts),
   * written in batches by this worker's consumer. Without it they are written to D1 directly.
   */
  AUDIT_QUEUE?: Queue<RecordMessage>;
  /** Bench-only: lets a request skip audit/request recording with `X-Bench-Recording: off` (never in production). */
  BENCH_RECORDING_OPT_OUT?: string;
  /** One CollabRoom Durable Object per edited resource (durable-objects/collab-room.ts). */
  COLLAB_ROOM: DurableObjectNamespace<CollabRoomActor>;
  /** `host:port` pairs exempt from the SSRF guard (test fakes only; ignored in production). */
  OUTBOUND_ALLOWED_HOSTS?: string;
  /** Browser origins (comma-separated, e.g. `https://inspector.example.com`) allowed to call the MCP server; other Origins get 403. */
  MCP_ALLOWED_ORIGINS?: string;
  /** web_search tool: a JSON search API called as GET <url>?q=&count=&format=json (SearXNG, Brave, ...). */
  WEB_SEARCH_URL?: string;
  /** web_search tool: sent as `Authorization: Bearer` and `X-Subscription-Token` (secret). */
  WEB_SEARCH_API_KEY?: string;
  /** email_send tool: a Resend-style endpoint taking POST {from, to, subject, text, html}. */
  EMAIL_API_URL?: string;
  /** email_send tool: Bearer key of the e-mail provider (secret). */
  EMAIL_API_KEY?: string;
  /** email_send tool: the sender address. */
  EMAIL_FROM?: string;
  /** Feishu bot: app credentials, event verification token and encrypt key (secrets). */
  FEISHU_APP_ID?: string;
  FEISHU_APP_SECRET?: string;
  FEISHU_VERIFICATION_TOKEN?: string;
  FEISHU_ENCRYPT_KEY?: string;
  /** Feishu open API base URL (default https://open.feishu.cn; https://open.larksuite.com for Lark). */
  FEISHU_API_BASE?: string;
  /** Producer of `tiangong-feishu`: accepted Feishu events, processed after the 200. */
  FEISHU_QUEUE: Queue<FeishuMessage>;
  /** Producer of `tiangong-evals`: the rows of eval runs, executed and scored by this worker's consumer. */
  EVALS_QUEUE: Queue<EvalRowsMessage>;
  /** Producer of `tiangong-schedules`: due agent-schedule runs, claimed by the cron step. */
  SCHEDULES_QUEUE: Queue<ScheduleRunMessage>;
  /** Producer of `tiangong-traces`: finished spans to export over OTLP/HTTP (docs/traces.md). */
  TRACES_QUEUE?: Queue<TraceExportMessage>;
  /** The platform's OTLP/HTTP collector (base URL; `/v1/traces` is appended): every turn's and run's spans go there too. */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  /** Headers for it, `name=value` pairs separated by commas (values URL-encoded): a secret. */
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  /** `true` puts prompts, answers and tool arguments/results in the platform's spans (default off). */
  OTEL_TRACES_INCLUDE_CONTENT?: string;
  /**
   * The tiangong-runtime worker (workers/runtime), by RPC: the QuickJS code sandbox and PDF text
   * extraction, kept out of this worker's bundle and isolate. Without it, code runs answer 503
   * and PDFs fail extraction.
   */
  RUNTIME?: Service<Runtime>;
}
