import { extractText, getDocumentProxy } from 'unpdf';

/** A PDF the parser could not read: the reason, for the document's failure message. */
export class PdfError extends Error {
  override name = 'PdfError';
}

/** The text of a PDF, pages separated by blank lines, and its page count (pdf.js through unpdf). */
export async function pdfToText(bytes: Uint8Array): Promise<{ text: string; pages: number }> {
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given; hand it a copy.
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    await pdf.cleanup?.();
    return { text: (text as string[]).map((p) => p.trim()).filter(Boolean).join('\n\n'), pages: totalPages };
  } catch (e) {
    throw new PdfError(`Could not read the PDF: ${e instanceof Error ? e.message : String(e)}`);
  }
}
