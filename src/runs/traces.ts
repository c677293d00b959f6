import type { Env } from '../env';
import { TraceCollector, TurnTrace, withoutContent, workflowRunSpans, type TracedNode, type TracedRun } from '../engine/telemetry/spans';
import type { Usage } from '../engine/llm/types';
import { IsolateCache } from '../lib/isolate-cache';
import { findTraceExporter } from '../modules/governance/monitoring/store';
import type { TraceExportMessage, TraceSpan } from '../queues';
import type { TurnAgent } from './types';

/**
 * Traces of agent turns and workflow runs (docs/traces.md): a root turn collects its spans (and
 * those of the turns it delegates to) in memory and, once it ended, queues them for export; the
 * consumer of `tiangong-traces` sends them. Nothing is collected when no destination is set.
 */

/**
 * Where the spans of a user's agent turns and workflow runs go (docs/traces.md): the platform's
 * collector (OTEL_EXPORTER_OTLP_ENDPOINT, for every user) and the user's own exporter. Turns ask
 * {@link traceDestinations} before they start; the answer is cached per isolate for a short
 * while, so a traced turn does not read D1 each time (a change made elsewhere applies within
 * {@link DESTINATIONS_TTL_MS}; one made on this isolate at once).
 */

export const DESTINATIONS_TTL_MS = 30_000;

export interface TraceDestinations {
  platform: { includeContent: boolean } | null;
  user: { includeContent: boolean } | null;
}

/** The user's own destination by user id (one entry per user this isolate has seen, at most 10,000). */
const cache = new IsolateCache<string, TraceDestinations['user']>(10_000, DESTINATIONS_TTL_MS);

const platformDestination = (env: Env): TraceDestinations['platform'] =>
  env.OTEL_EXPORTER_OTLP_ENDPOINT ? { includeContent: env.OTEL_TRACES_INCLUDE_CONTENT === 'true' } : null;

/** Where a turn or run of `userId` is exported; null when nowhere (the turn then collects nothing). */
export async function traceDestinations(env: Env, userId: string): Promise<TraceDestinations | null> {
  if (!env.TRACES_QUEUE) return null;
  const platform = platformDestination(env);
  let user = cache.get(userId);
  if (user === undefined) {
    const row = await findTraceExporter(env.DB, userId);
    user = row?.enabled ? { includeContent: row.includeContent } : null;
    cache.set(userId, user);
  }
  return platform || user ? { platform, user } : null;
}

/** A queue message holds at most 128 KB: spans go in messages of at most this many JSON bytes. */
const MESSAGE_BYTES = 96_000;

function chunks(spans: TraceSpan[]): TraceSpan[][] {
  const out: TraceSpan[][] = [[]];
  let size = 0;
  for (const span of spans) {
    const n = JSON.stringify(span).length;
    if (size + n > MESSAGE_BYTES && out[out.length - 1].length) {
      out.push([]);
      size = 0;
    }
    out[out.length - 1].push(span);
    size += n;
  }
  return out;
}

/** Messages per destination; contents are dropped for a destination that does not allow them. */
export async function enqueueSpans(env: Env, userId: string, destinations: TraceDestinations, spans: TraceSpan[]): Promise<void> {
  if (!env.TRACES_QUEUE || !spans.length) return;
  const bodies: TraceExportMessage[] = [];
  for (const destination of ['platform', 'user'] as const) {
    const d = destinations[destination];
    if (d) for (const part of chunks(d.includeContent ? spans : withoutContent(spans))) bodies.push({ destination, user_id: userId, spans: part });
  }
  // sendBatch takes at most 256 KB: two or three chunks per call.
  for (let i = 0; i < bodies.length; i += 2) await env.TRACES_QUEUE.sendBatch(bodies.slice(i, i + 2).map((body) => ({ body })));
}

/** Forgets a user's cached destinations (their exporter changed on this isolate). */
export function forgetTraceDestinations(userId: string): void {
  cache.delete(userId);
}

/** A delegated turn's place in its caller's trace. */
export type TraceParent = ReturnType<TurnTrace['nested']>;

export interface TracedTurn {
  trace: TurnTrace;
  /** Ends the turn span; a root turn then queues its trace (never throws: a lost trace must not fail the turn). */
  finish(usage: Usage | null, error?: unknown): Promise<void>;
}

export async function startTurnTrace(
  env: Env,
  opts: { userId: string; agent: TurnAgent | null; sessionId?: string | null; source: string; trace?: TraceParent },
): Promise<TracedTurn | null> {
  const info = { agentId: opts.agent?.id ?? null, agentName: opts.agent?.name ?? null, sessionId: opts.sessionId ?? null, source: opts.source, userId: opts.userId };
  if (opts.trace) {
    const trace = new TurnTrace(opts.trace.collector, info, opts.trace.parentSpanId);
    return { trace, finish: async (usage, error) => trace.end(usage, error) };
  }
  const destinations = await traceDestinations(env, opts.userId).catch(() => null);
  if (!destinations) return null;
  const collector = new TraceCollector(!!(destinations.platform?.includeContent || destinations.user?.includeContent));
  const trace = new TurnTrace(collector, info);
  return {
    trace,
    finish: async (usage, error) => {
      trace.end(usage, error);
      await enqueueSpans(env, opts.userId, destinations, collector.spans).catch((e) => console.error(JSON.stringify({ type: 'error', where: 'trace enqueue', error: String(e) })));
    },
  };
}

/** Queues the spans of a workflow run that came to an end (the Execution DO calls this). */
export async function exportRunTrace(env: Env, run: TracedRun, nodes: TracedNode[]): Promise<void> {
  try {
    const destinations = await traceDestinations(env, run.user_id);
    if (destinations) await enqueueSpans(env, run.user_id, destinations, workflowRunSpans(run, nodes));
  } catch (e) {
    console.error(JSON.stringify({ type: 'error', where: 'trace enqueue', error: String(e) }));
  }
}
