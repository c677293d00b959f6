import { z } from '@hono/zod-openapi';

export const UploadSchema = z
  .object({
    id: z.uuid(),
    filename: z.string().meta({ description: 'The original name, sanitised (no directories or control characters)' }),
    content_type: z.string().meta({ description: 'Decided from the content (magic bytes), not only the declared type' }),
    declared_type: z.string().nullable(),
    size: z.int(),
    sha256: z.string(),
    created_at: z.string(),
  })
  .openapi('Upload');

export const UploadBody = z
  .object({
    file: z
      .instanceof(File, { message: 'A file is required (multipart field "file")' })
      .meta({ type: 'string', format: 'binary', description: 'txt, md, html, csv, json or PDF' }),
  })
  .openapi('UploadRequest');

export const PreviewQuery = z.object({
  max_chars: z.coerce.number().int().min(100).max(20000).default(2000).meta({ description: 'Length of the excerpt' }),
});

export const PreviewSchema = UploadSchema.extend({
  excerpt: z.string().meta({ description: 'The start of the extracted text' }),
  truncated: z.boolean(),
  char_count: z.int().meta({ description: 'Characters of extracted text' }),
  pages: z.int().nullable().meta({ description: 'PDF page count' }),
}).openapi('UploadPreview');
