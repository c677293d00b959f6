import type { Env } from '../../../env';
import type { EngineServices } from '../../../engine/workflow/node';
import { nodeTypes } from '../../../engine/workflow/nodes';
import { runSingleNode } from '../../../engine/workflow/runner';
import type { NodeDef } from '../../../engine/workflow/types';
import { parseConfig } from '../../../engine/workflow/validate';
import type { AuthUser } from '../../../lib/auth';
import { validationError } from '../../../lib/errors';
import { principalServices } from '../../../runs/principal';

/**
 * Engine services for runs outside an Execution DO (no approvals): agent nodes and sub-workflows
 * the caller may execute (authorize()), with the caller's rights.
 */
export function d1Services(env: Env, userId: string): EngineServices {
  return principalServices(env, userId, null);
}

/** Runs one node with the given variables through the engine's node path (timeout, retry, strategy). */
export async function runNode(env: Env, user: AuthUser, body: { node: NodeDef; inputs: Record<string, unknown>; variables: Record<string, unknown> }) {
  if (!nodeTypes[body.node.type]) throw validationError(`body.node.type: unknown node type ${body.node.type}`);
  const parsed = parseConfig(body.node);
  if (!parsed.ok) throw validationError(`body.node.${parsed.message}`);
  const started = Date.now();
  const { state, logs, events } = await runSingleNode({
    env,
    userId: user.id,
    node: body.node,
    inputs: body.inputs,
    variables: body.variables,
    services: d1Services(env, user.id),
  });
  return {
    node_id: state.node_id,
    node_type: state.type,
    status: state.status,
    inputs: state.inputs ?? null,
    outputs: state.output ?? null,
    branch: state.branch ?? null,
    error: state.error ?? null,
    attempts: state.attempts,
    duration_ms: state.duration_ms ?? Date.now() - started,
    token_usage: state.usage,
    calls: state.calls,
    logs: logs.map((l) => ({ level: l.level, message: l.message, data: l.data })),
    events: events as Array<{ type: string }>,
  };
}
