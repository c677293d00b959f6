import { isOwnWorkflow } from '../../workflows/workflows/store';
import type { z } from '@hono/zod-openapi';
import { isSecretHeader } from '../../../engine/tools/custom';
import { validationError } from '../../../lib/errors';
import { describeZodError } from '../../../lib/router';
import { Market, type MarketKind } from '../markets/core';
import { ImportBody } from '../../workflows/workflows/schemas';
import { exportWorkflow, getWorkflow, importWorkflow } from '../../workflows/workflows/service';
import { TEMPLATE_CATEGORIES } from './schemas';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SECRET_KEY = /(api[_-]?key|secret|password|passwd|token|credential|authorization|cookie)/i;

/**
 * What a published workflow may not carry: secret values (API keys, tokens, passwords, secret
 * headers) and references to the publisher's resources (ids of their knowledge bases, agents,
 * model configs, custom tools, data sources). Secrets are removed; references become null, so the
 * installer points the nodes at their own resources.
 */
export function scrubWorkflowConfig(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const kept = /_ids$/i.test(key) ? value.filter((v) => !(typeof v === 'string' && UUID.test(v))) : value;
    return kept.map((v) => scrubWorkflowConfig(v, ''));
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SECRET_KEY.test(k) && typeof v !== 'object') continue;
      if (/^headers$/i.test(k) && v && typeof v === 'object' && !Array.isArray(v)) {
        out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([h]) => !isSecretHeader(h)));
        continue;
      }
      out[k] = scrubWorkflowConfig(v, k);
    }
    return out;
  }
  if (typeof value === 'string' && UUID.test(value) && /_id$/i.test(key)) return null;
  // A custom tool named by its UUID (tool nodes) is the publisher's.
  if (typeof value === 'string' && UUID.test(value) && /^(tool|tool_ref|workflow|agent)$/i.test(key)) return null;
  return value;
}

function parseDoc(content: Record<string, unknown>) {
  const parsed = ImportBody.safeParse(content);
  if (!parsed.success) throw validationError(describeZodError('content', parsed.error as z.ZodError));
  return parsed.data;
}

/** Workflow templates travel as `tiangong.workflow` exports, scrubbed; installing is importing. */
export const workflowKind: MarketKind = {
  kind: 'workflow',
  noun: 'workflow',
  categories: TEMPLATE_CATEGORIES,
  async snapshot(env, user, sourceId) {
    const wf = await getWorkflow(env, user, sourceId);
    const { exported_at: _ignored, ...doc } = await exportWorkflow(env, user, sourceId);
    const content = { ...doc, workflow: { ...doc.workflow, status: 'draft', graph: scrubWorkflowConfig(doc.workflow.graph) } };
    return { name: wf.name, description: wf.description, content: content as Record<string, unknown> };
  },
  async install(env, user, content) {
    return (await importWorkflow(env, user, parseDoc(content))).id;
  },
  async exists(env, user, resourceId) {
    return isOwnWorkflow(env.DB, resourceId, user.id);
  },
};

export const templateMarket = new Market(workflowKind);
