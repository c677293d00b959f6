import { ApiError } from '../../lib/errors';

/** An upstream model failure: 502 `LLM_ERROR` for non-streaming calls, an SSE `error` event otherwise. */
export class LlmError extends ApiError {
  constructor(
    message: string,
    /** The upstream HTTP status, when there was one (429 and 5xx are retried). */
    readonly upstreamStatus?: number,
    readonly retryAfterMs?: number,
  ) {
    super(502, 'LLM_ERROR', message);
    this.name = 'LlmError';
  }
}
