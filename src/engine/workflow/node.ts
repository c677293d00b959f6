/** The contract between the workflow runner and a node type (nodes/ has one file per type). */
import { z } from 'zod';
import type { Env } from '../../env';
import type { Usage } from '../llm/types';
import type { CallRecord, FormField, Graph, InputDef, ItemReplay, NodeDef, WaitInfo } from './types';
import type { Scope } from './variables';

/** What the engine offers a node besides its configuration. */
export interface EngineServices {
  /** A workflow of the run's owner (sub-workflow node); null when missing or not theirs. */
  loadWorkflow(id: string): Promise<{ id: string; graph: Graph; inputs_schema: InputDef[] } | null>;
  /** Records a pending approval (or a human_input form: kind input); only durable top-level runs provide it. */
  createApproval?(req: {
    node_id: string;
    kind?: 'approval' | 'input';
    fields?: FormField[];
    title: string;
    description: string;
    approver_id: string | null;
    timeout_at: string | null;
  }): Promise<{ approval_id: string }>;
  /**
   * One turn of an agent of the run's owner (null: the agent whose run this is). Provided where
   * the agents module is available; the agent node fails with UNSUPPORTED elsewhere.
   */
  runAgent?(agentId: string | null, message: string, signal: AbortSignal): Promise<{
    agent_id: string;
    reply: string;
    usage: Usage;
    iterations: number;
    tool_calls: Array<{ name: string; duration_ms: number; error?: string }>;
  }>;
}

export interface SubRunResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  outputs: Record<string, unknown>;
  error?: { code: string; message: string; node_id?: string };
  calls: CallRecord[];
  usage: Usage;
}

export interface NodeContext {
  env: Env;
  userId: string;
  executionId: string;
  workflowId: string | null;
  node: NodeDef;
  scope: Scope;
  signal: AbortSignal;
  /** Inside a loop/iteration body or a sub-workflow: nothing may suspend the run there. */
  nested: boolean;
  depth: number;
  /** Delegation depth of the run (ToolContext.depth): how many turns and tool-started runs led to it. */
  delegationDepth: number;
  /** When this node first started (survives restarts: a delay waits only what remains). */
  startedMs: number;
  services: EngineServices;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, data?: unknown): void;
  recordCall(call: CallRecord): void;
  addUsage(usage: Usage): void;
  /** Outputs of the nodes whose edges into this node were taken, merged. */
  upstream(): Record<string, unknown>;
  /** A fork at items of this iteration: run only those, reuse the recorded results of the others. */
  replay?: ItemReplay;
  /** Runs a nested graph in memory with `inputs` and the current scope visible. */
  runGraph(graph: Graph, inputs: Record<string, unknown>, opts?: { isolated?: boolean; workflowId?: string }): Promise<SubRunResult>;
}

export type NodeResult = { output: Record<string, unknown>; branch?: string } | { wait: WaitInfo };

export interface NodeType<C = any> {
  type: string;
  description: string;
  config: z.ZodType<C>;
  /** Output ports for this configuration (empty for terminal nodes). */
  ports(config: C): string[];
  /** Output fields known up front, or null when they depend on data. */
  outputs(config: C): string[] | null;
  /** Keys of the config that are not resolved up front (conditions, bodies). */
  rawKeys?: string[];
  /** Nested graphs (loop/iteration bodies): validated and run with their own scope. */
  bodies?(config: C): Graph[];
  /** Variables a body may read besides its own nodes and the outer scope. */
  bodyInputs?: string[];
  /** Ends a run (its output becomes part of the run's outputs). */
  terminal?: boolean;
  run(ctx: NodeContext, config: C, resolved: Record<string, unknown>): Promise<NodeResult>;
  /** Finishes a node that suspended the run (an approval decided, a delay elapsed). */
  resume?(ctx: NodeContext, config: C, resolution: Record<string, unknown>): NodeResult;
  /**
   * Whether this configuration may suspend a top-level run (types with `resume` only; absent: it
   * may). A graph none of whose nodes may suspend can run inline, without an Execution object.
   */
  suspends?(config: C): boolean;
}
