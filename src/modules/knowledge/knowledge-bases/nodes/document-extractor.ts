import { z } from 'zod';
import { ExtractionError, UnsupportedFileError, type ExtractedText } from '../../../../engine/rag/extract';
import type { NodeType } from '../../../../engine/workflow/node';
import { out } from '../../../../engine/workflow/nodes/helpers';
import { NodeError } from '../../../../engine/workflow/types';
import type { Env } from '../../../../env';
import type { AuthUser } from '../../../../lib/auth';
import { ApiError } from '../../../../lib/errors';
import { findActiveUser } from '../../../identity/auth/store';

const DocumentExtractorConfig = z
  .object({
    upload_id: z.string().min(1).max(200).optional().meta({ description: "An upload of the run's owner (an id or a reference)" }),
    document_id: z.string().min(1).max(200).optional().meta({ description: "A document of a knowledge base the run's owner may read (an id or a reference)" }),
    max_chars: z.int().min(1).max(1_000_000).default(100_000).meta({ description: 'Characters kept; the rest is cut (truncated: true)' }),
    max_pages: z.int().min(1).max(10_000).optional().meta({ description: 'PDFs: only the first pages are read' }),
  })
  .refine((c) => (c.upload_id === undefined) !== (c.document_id === undefined), { message: 'exactly one of upload_id and document_id is required' });
type Config = z.infer<typeof DocumentExtractorConfig>;

const idOf = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || !value.trim()) throw new NodeError('INVALID_CONFIG', `${field}: expected an id, got ${JSON.stringify(value)?.slice(0, 200)}`, false);
  return value.trim();
};

/** An ApiError 404 as the node's NOT_FOUND (someone else's resource reads as missing). */
function notFoundAs(message: string) {
  return (e: unknown): never => {
    if (e instanceof ApiError && e.status === 404) throw new NodeError('NOT_FOUND', message, false);
    throw e;
  };
}

// The uploads and knowledge-base services are imported on the node's first run, not at startup
// (every isolate registers the node type).
async function fromUpload(env: Env, principal: AuthUser, id: string, maxPages: number | undefined) {
  const { getUploadRow, uploadText } = await import('../../uploads/service');
  const row = await getUploadRow(env, principal, id).catch(notFoundAs(`Upload ${id} not found`));
  const extracted = await uploadText(env, row, { maxPages });
  if (!extracted) throw new NodeError('NOT_FOUND', `The content of upload ${id} is missing from storage`, false);
  return { extracted, name: row.filename, content_type: row.contentType };
}

async function fromDocument(env: Env, principal: AuthUser, id: string, maxPages: number | undefined) {
  const missing = `Document ${id} not found, or the run's owner may not read its knowledge base`;
  const [{ findDocument }, { documentText, getKnowledgeBaseRow }] = await Promise.all([import('../store'), import('../service')]);
  const doc = await findDocument(env.DB, id);
  if (!doc) throw new NodeError('NOT_FOUND', missing, false);
  await getKnowledgeBaseRow(env, principal, doc.kbId).catch(notFoundAs(missing));
  return { extracted: await documentText(env, doc, { maxPages }), name: doc.title, content_type: doc.contentType };
}

/**
 * The text of an upload or a knowledge-base document (PDFs through the runtime worker), cut to
 * `max_chars` and, for a PDF, its first `max_pages` pages.
 */
export const documentExtractor: NodeType<Config> = {
  type: 'document_extractor',
  description:
    'The text of an upload or a knowledge-base document (txt, md, html, csv, json, pdf) → {text, truncated, char_count, pages, name, content_type, source}, within max_chars and max_pages.',
  config: DocumentExtractorConfig,
  ports: out,
  outputs: () => ['text', 'truncated', 'char_count', 'pages', 'name', 'content_type', 'source'],
  async run(ctx, c, r) {
    const principal = await findActiveUser(ctx.env, ctx.userId);
    if (!principal) throw new NodeError('UNAUTHORIZED', 'The user this run acts for no longer exists', false);
    const source = c.upload_id !== undefined ? 'upload' : 'document';
    let found: { extracted: ExtractedText; name: string; content_type: string };
    try {
      found =
        source === 'upload'
          ? await fromUpload(ctx.env, principal, idOf(r.upload_id, 'upload_id'), c.max_pages)
          : await fromDocument(ctx.env, principal, idOf(r.document_id, 'document_id'), c.max_pages);
    } catch (e) {
      if (e instanceof UnsupportedFileError) throw new NodeError('UNSUPPORTED_TYPE', e.message, false);
      if (e instanceof ExtractionError) throw new NodeError('EXTRACTION_FAILED', e.message, false);
      throw e;
    }
    const { extracted } = found;
    const chars = Array.from(extracted.text);
    const pagesCut = c.max_pages !== undefined && extracted.pages !== undefined && extracted.pages > c.max_pages;
    return {
      output: {
        text: chars.length > c.max_chars ? chars.slice(0, c.max_chars).join('') : extracted.text,
        truncated: chars.length > c.max_chars || pagesCut,
        char_count: chars.length,
        pages: extracted.pages ?? null,
        name: found.name,
        content_type: found.content_type,
        source,
      },
    };
  },
};
