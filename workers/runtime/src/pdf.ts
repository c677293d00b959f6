import { extractText, getDocumentProxy } from 'unpdf';

/** A PDF the parser could not read: the reason, for the document's failure message. */
export class PdfError extends Error {
  override name = 'PdfError';
}

/**
 * The text of a PDF, pages separated by blank lines, and its page count (pdf.js through unpdf).
 * `maxPages` keeps the text of the first pages only (the count stays the document's).
 */
export async function pdfToText(bytes: Uint8Array, maxPages?: number): Promise<{ text: string; pages: number }> {
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given; hand it a copy.
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    await pdf.cleanup?.();
    const pages = maxPages === undefined ? (text as string[]) : (text as string[]).slice(0, maxPages);
    return { text: pages.map((p) => p.trim()).filter(Boolean).join('\n\n'), pages: totalPages };
  } catch (e) {
    throw new PdfError(`Could not read the PDF: ${e instanceof Error ? e.message : String(e)}`);
  }
}
