import { WorkerEntrypoint } from 'cloudflare:workers';
import type { SandboxFetch, SandboxResult, SandboxRun } from '../../../src/engine/sandbox/types';

/**
 * tiangong-runtime: the heavy, rarely used engines of the platform, out of the API worker's
 * bundle and out of its isolate — pdf.js (text of uploaded PDFs) and the QuickJS sandbox (user
 * JavaScript: code tools, code nodes, run_javascript, regex tools). The API worker reaches it
 * only through its RUNTIME service binding, by RPC; it has no bindings, no secrets and no public
 * route. Each engine is imported when first used, so a call to one never pays for the other.
 *
 * Refusals travel as values ({refused: {status, code, message}}) because RPC keeps only the
 * message of a thrown error; the API side turns them back into its own errors.
 */

export interface RuntimeRefusal {
  status: number;
  code: string;
  message: string;
}
export type RuntimeOutcome<T> = { value: T } | { refused: RuntimeRefusal };

/**
 * The fetch a caller lends a sandboxed run, as an RPC stub. A refused request (the SSRF guard, an
 * upstream failure) comes back as `{failed: message}` rather than thrown: an error thrown across
 * RPC is reported as an uncaught exception of the caller's isolate.
 */
export type RuntimeFetch = (
  url: string,
  init: Parameters<SandboxFetch>[1],
) => Promise<{ response: Awaited<ReturnType<SandboxFetch>> } | { failed: string }>;

export type RuntimeRun = Omit<SandboxRun, 'fetch'> & { fetch?: RuntimeFetch };

export default class Runtime extends WorkerEntrypoint {
  /**
   * Runs user JavaScript in QuickJS (WebAssembly, its own heap and globals). `run.fetch`, when
   * present, is a stub of a function of the caller: network requests are made (and guarded) there.
   */
  async runCode(run: RuntimeRun): Promise<RuntimeOutcome<SandboxResult>> {
    const { runInQuickJS, SandboxError } = await import('./quickjs');
    const { fetch: lent, ...limits } = run;
    const fetch: SandboxFetch | undefined = lent
      ? async (url, init) => {
          const answer = await lent(url, init);
          if ('failed' in answer) throw new Error(answer.failed);
          return answer.response;
        }
      : undefined;
    try {
      return { value: await runInQuickJS({ ...limits, fetch }) };
    } catch (e) {
      if (e instanceof SandboxError) return { refused: { status: e.status, code: e.code, message: e.message } };
      throw e;
    }
  }

  /** The text of a PDF (of its first `max_pages` pages when given), pages separated by blank lines, and its page count. */
  async extractPdf(bytes: Uint8Array, options: { max_pages?: number } = {}): Promise<RuntimeOutcome<{ text: string; pages: number }>> {
    const { pdfToText, PdfError } = await import('./pdf');
    try {
      return { value: await pdfToText(bytes, options.max_pages) };
    } catch (e) {
      if (e instanceof PdfError) return { refused: { status: 422, code: 'EXTRACTION_ERROR', message: e.message } };
      throw e;
    }
  }

  override async fetch(): Promise<Response> {
    return Response.json({ error: 'NOT_FOUND', message: 'This worker is reached only through its service binding' }, { status: 404 });
  }
}
