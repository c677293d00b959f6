import type { Env } from '../../env';
import { complete, type CallMeta, type ModelTarget } from '../llm/gateway';
import { nameMatchRouter, type Router } from './index';

const ROUTER_PROMPT =
  'You route a user message to the one agent best suited to answer it. ' +
  'Reply with a JSON object only: {"agent_id": "<id of the chosen agent>", "reason": "<one short sentence>"}.';

/** Takes the first JSON object out of a model's answer (some models wrap it in prose or fences). */
export function extractJsonObject(text: string): Record<string, unknown> | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end <= start) return null;
  try {
    const value = JSON.parse(text.slice(start, end + 1));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * A router that asks a model (JSON output) which agent should answer. Any failure — the call
 * fails, the answer is not JSON, or names no listed agent — falls back to `fallback` (the name
 * match), so routing always picks someone.
 */
export function modelRouter(env: Env, target: ModelTarget, meta: CallMeta, fallback: Router = nameMatchRouter): Router {
  return async (agents, message) => {
    if (agents.length === 1) return { agent: agents[0], reason: 'the only agent' };
    try {
      const result = await complete(
        env,
        target,
        {
          messages: [
            { role: 'system', content: ROUTER_PROMPT },
            { role: 'user', content: JSON.stringify({ message, agents: agents.map((a) => ({ id: a.id, name: a.name, description: a.description ?? '' })) }) },
          ],
          response_format: 'json',
          temperature: 0,
        },
        meta,
      );
      const choice = extractJsonObject(result.content);
      const agent = agents.find((a) => a.id === choice?.agent_id) ?? agents.find((a) => a.name === choice?.agent_name);
      if (agent) return { agent, reason: typeof choice?.reason === 'string' && choice.reason ? choice.reason : 'chosen by the router model' };
    } catch {
      // Routing must not fail the request: the deterministic rule decides instead.
    }
    const picked = await fallback(agents, message);
    return { agent: picked.agent, reason: `${picked.reason} (the router model gave no usable choice)` };
  };
}
