import { z } from 'zod';
import type { NodeType } from '../../../../engine/workflow/node';
import { out } from '../../../../engine/workflow/nodes/helpers';
import { NodeError } from '../../../../engine/workflow/types';
import { stringify } from '../../../../engine/workflow/variables';
import { ApiError } from '../../../../lib/errors';
import { findActiveUser } from '../../../identity/auth/store';
import { RETRIEVAL_MODES } from '../../../../engine/rag/fusion';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const KnowledgeRetrievalConfig = z.object({
  kb_ids: z
    .union([z.array(z.string().min(1).max(200)).min(1).max(10), z.string().min(1).max(200)])
    .meta({ description: 'Knowledge bases to search: ids (each may be a reference), or one reference to a list of ids' }),
  query: z.string().min(1).max(2000).meta({ description: 'What to search for (a template)' }),
  top_k: z.int().min(1).max(50).default(5).meta({ description: 'Chunks kept over all the knowledge bases, best first' }),
  mode: z.enum(RETRIEVAL_MODES).optional().meta({ description: "Retrieval mode (default: each knowledge base's own)" }),
  score_threshold: z.number().min(0).optional().meta({ description: "Chunks scoring below are dropped (default: each knowledge base's own)" }),
});

/** The resolved `kb_ids`: a list of knowledge-base ids, or a clear configuration error. */
function kbIdsOf(value: unknown): string[] {
  const ids = Array.isArray(value) ? value : [value];
  const bad = ids.find((id) => typeof id !== 'string' || !UUID.test(id));
  if (ids.length === 0 || bad !== undefined) {
    throw new NodeError('INVALID_CONFIG', `kb_ids: expected knowledge base ids, got ${JSON.stringify(bad ?? value)?.slice(0, 200)}`, false);
  }
  return [...new Set(ids as string[])];
}

/**
 * Retrieves chunks from knowledge bases the run's principal may read (the same search as `POST
 * /knowledge-bases/{id}/search`) → `{chunks, context}`, context being the numbered chunks as a prompt
 * takes them. A base the principal may not read fails the node as NOT_FOUND.
 */
export const knowledgeRetrieval: NodeType<z.infer<typeof KnowledgeRetrievalConfig>> = {
  type: 'knowledge_retrieval',
  description:
    'Searches knowledge bases the run may read → {chunks: [{content, score, document_id, document_name, kb_id}], context} (context: the numbered chunks for a prompt).',
  config: KnowledgeRetrievalConfig,
  ports: out,
  outputs: () => ['chunks', 'context'],
  async run(ctx, c, r) {
    const kbIds = kbIdsOf(r.kb_ids);
    const query = stringify(r.query).trim();
    if (!query) throw new NodeError('INVALID_CONFIG', 'query: resolved to an empty text', false);
    // Retrieval (the base's store, embeddings, the gateway) is imported on the node's first run, not at startup.
    const [principal, { citationLabel, retrieveFromKnowledgeBase }] = await Promise.all([findActiveUser(ctx.env, ctx.userId), import('../retrieval')]);
    if (!principal) throw new NodeError('UNAUTHORIZED', 'The user this run acts for no longer exists', false);
    const found = await Promise.all(
      kbIds.map(async (kbId) => {
        try {
          const { kb, results } = await retrieveFromKnowledgeBase(ctx.env, principal, kbId, { query, top_k: c.top_k, mode: c.mode, score_threshold: c.score_threshold });
          return results.map((x) => ({ ...x, kb_id: kb.id }));
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) {
            throw new NodeError('NOT_FOUND', `Knowledge base ${kbId} not found, or the run's owner may not read it`, false);
          }
          throw e;
        }
      }),
    );
    const best = found
      .flat()
      .sort((a, b) => b.score - a.score)
      .slice(0, c.top_k);
    ctx.log('info', `Retrieved ${best.length} chunk(s) from ${kbIds.length} knowledge base(s)`);
    return {
      output: {
        chunks: best.map((x) => ({ content: x.content, score: x.score, document_id: x.document_id, document_name: x.document_title, kb_id: x.kb_id })),
        context: best.map((x, i) => `${citationLabel(i + 1, x)}\n${x.content}`).join('\n\n'),
      },
    };
  },
};
