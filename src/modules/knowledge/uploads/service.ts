import { extractText, ExtractionError, detectFileType, UnsupportedFileError, type ExtractedText, type SupportedType } from '../../../engine/rag/extract';
import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { toHex } from '../../../lib/crypto';
import { ApiError, notFound } from '../../../lib/errors';
import { findUpload, insertUpload, type UploadRow } from './store';


export const DEFAULT_UPLOAD_MAX_BYTES = 20 * 1024 * 1024;

export function uploadMaxBytes(env: Env): number {
  const n = Number(env.UPLOAD_MAX_BYTES);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_UPLOAD_MAX_BYTES;
}

export const tooLarge = (max: number) => new ApiError(413, 'PAYLOAD_TOO_LARGE', `Upload exceeds ${max} bytes`);

/**
 * A name safe to keep and show: the last path segment only (no `../`, no directories), without
 * control or reserved characters, at most 255 characters. It is never used as a storage key.
 */
export function safeFilename(name: string): string {
  let base = (name.split(/[\\/]/).pop() ?? '').normalize('NFC');
  base = base.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').replace(/^[.\s]+/, '').trim();
  if (!base) return 'file';
  const chars = Array.from(base);
  if (chars.length <= 255) return base;
  const ext = base.match(/\.[A-Za-z0-9]{1,10}$/)?.[0] ?? '';
  return chars.slice(0, 255 - ext.length).join('') + ext;
}

export function presentUpload(row: UploadRow) {
  return {
    id: row.id,
    filename: row.filename,
    content_type: row.contentType,
    declared_type: row.declaredType,
    size: row.size,
    sha256: row.sha256,
    created_at: row.createdAt,
  };
}

export async function createUpload(env: Env, user: AuthUser, file: File) {
  const max = uploadMaxBytes(env);
  if (file.size > max) throw tooLarge(max);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const filename = safeFilename(file.name || 'file');
  const declared = file.type || null;
  let contentType: SupportedType;
  try {
    contentType = detectFileType(bytes, filename, declared);
  } catch (e) {
    if (e instanceof UnsupportedFileError) throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `${e.message}; supported: txt, md, html, csv, json, pdf`);
    throw e;
  }
  const id = crypto.randomUUID();
  const sha256 = toHex(await crypto.subtle.digest('SHA-256', bytes));
  // The key is made of ids only: the user's file name never reaches the storage path.
  const storageKey = `uploads/${user.id}/${id}`;
  await env.FILES.put(storageKey, bytes, {
    httpMetadata: { contentType },
    customMetadata: { owner_id: user.id, sha256 },
    sha256,
  });
  const row = await insertUpload(env.DB, {
    id,
    ownerId: user.id,
    filename,
    contentType,
    declaredType: declared,
    size: bytes.byteLength,
    sha256,
    storageKey,
  });
  return presentUpload(row);
}

/** An upload of the user's own (or any, for an admin); anyone else's answers 404 like a missing one. */
export async function getUploadRow(env: Env, user: AuthUser, id: string): Promise<UploadRow> {
  const row = await findUpload(env.DB, id);
  if (!row || (row.ownerId !== user.id && !isAdmin(user))) throw notFound('Upload');
  return row;
}

/**
 * The text of a stored upload (a PDF's through the runtime worker; `maxPages` reads only its first
 * pages); null when its bytes are gone from storage. Throws UnsupportedFileError for a type the
 * extractor does not read and ExtractionError for a file it cannot parse.
 */
export async function uploadText(env: Env, row: Pick<UploadRow, 'storageKey' | 'contentType'>, options: { maxPages?: number } = {}): Promise<ExtractedText | null> {
  const bytes = await uploadBytes(env, row);
  return bytes && extractText(bytes, row.contentType, options);
}

/** The stored bytes of an upload as they were sent (null when they are gone from storage), for readers of structured files. */
export async function uploadBytes(env: Env, row: Pick<UploadRow, 'storageKey'>): Promise<Uint8Array | null> {
  const object = await env.FILES.get(row.storageKey);
  return object ? new Uint8Array(await object.arrayBuffer()) : null;
}

export async function previewUpload(env: Env, user: AuthUser, id: string, maxChars: number) {
  const row = await getUploadRow(env, user, id);
  let extracted: ExtractedText | null;
  try {
    extracted = await uploadText(env, row);
  } catch (e) {
    if (e instanceof ExtractionError || e instanceof UnsupportedFileError) throw new ApiError(422, 'EXTRACTION_FAILED', e.message);
    throw e;
  }
  if (!extracted) throw notFound('Upload content');
  const chars = Array.from(extracted.text);
  return {
    ...presentUpload(row),
    excerpt: chars.slice(0, maxChars).join(''),
    truncated: chars.length > maxChars,
    char_count: chars.length,
    pages: extracted.pages ?? null,
  };
}
