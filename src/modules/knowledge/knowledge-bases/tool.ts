import { int, obj, str, tool } from '../../../engine/tools/define';
import { registerBuiltinTool } from '../../../engine/tools/registry';
import { RETRIEVAL_MODES, type RetrievalMode } from '../../../engine/rag/fusion';

/**
 * `knowledge_search`: searches a knowledge base the caller may read, as `POST
 * /knowledge-bases/{id}/search` does (another user's base is not found).
 */
registerBuiltinTool(
  tool<{ kb_id: string; query: string; top_k?: number; mode?: RetrievalMode }>({
    name: 'knowledge_search',
    category: 'platform',
    description:
      "Search one of the user's knowledge bases for passages relevant to a query; returns the passages with their document, score and a citation label to quote.",
    description_zh: '在用户可读的知识库中检索与查询相关的段落,返回段落内容、所属文档、相关度分数和可引用的出处标注。',
    parameters: obj(
      {
        kb_id: str('The knowledge base to search', { format: 'uuid' }),
        query: str('What to look for', { minLength: 1, maxLength: 2000 }),
        top_k: int('How many passages at most (default: the knowledge base setting)', { minimum: 1, maximum: 50 }),
        mode: str('Retrieval mode (default: the knowledge base setting)', { enum: [...RETRIEVAL_MODES] }),
      },
      ['kb_id', 'query'],
    ),
    async execute({ kb_id, query, top_k, mode }, ctx) {
      // Retrieval (the base's store, embeddings, the gateway) is imported on the first search, not at startup.
      const { citationLabel, retrieveFromKnowledgeBase } = await import('./retrieval');
      const { kb, mode: used, results } = await retrieveFromKnowledgeBase(ctx.env, ctx.userId, kb_id, { query: query.trim(), top_k, mode });
      return {
        kb_id: kb.id,
        kb_name: kb.name,
        query,
        mode: used,
        chunks: results.map((r, i) => ({
          content: r.content,
          score: r.score,
          document_id: r.document_id,
          document_name: r.document_title,
          chunk_id: r.chunk_id,
          position: r.position,
          citation: citationLabel(i + 1, r),
        })),
      };
    },
  }),
);
