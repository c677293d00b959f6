import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { exports } from 'cloudflare:workers';
import { parseSse } from '../../src/lib/sse';

/**
 * Every response the tests of a file see through the helpers (`api`, `workerFetch`), checked in
 * an afterAll (setup.ts) against the served OpenAPI document: the status is documented for the
 * operation, the content type is one it documents, and a JSON body (or each SSE event) matches
 * the documented schema, by Ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses).
 */
export interface SeenResponse {
  method: string;
  path: string;
  status: number;
  contentType: string;
  text: string;
}

const seen: SeenResponse[] = [];
const pending = new Set<Promise<void>>();

export function recordResponse(request: Request, res: Response, text: string): void {
  seen.push({
    method: request.method.toLowerCase(),
    path: new URL(request.url).pathname,
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text,
  });
}

/** Records a response whose body the caller consumes itself (an SDK client): a clone is read here. */
export function recordStreamed(request: Request, res: Response): void {
  if (res.status === 101 || !res.body) return recordResponse(request, res, '');
  const clone = res.clone();
  const done = clone.text().then(
    (text) => recordResponse(request, res, text),
    () => undefined,
  );
  pending.add(done);
  void done.finally(() => pending.delete(done));
}

type Schema = Record<string, unknown>;
interface MediaType {
  schema?: Schema;
}
interface ResponseObject {
  content?: Record<string, MediaType>;
}
interface Operation {
  responses: Record<string, ResponseObject>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

interface Route {
  template: string;
  pattern: RegExp;
  literals: number;
  operations: Record<string, Operation>;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);
const trim = (path: string) => (path.length > 1 ? path.replace(/\/+$/, '') : path);
const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

export class DocumentChecker {
  private readonly routes: Route[];
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(doc: OpenApiDocument) {
    this.routes = Object.entries(doc.paths).map(([template, item]) => {
      const segments = trim(template).split('/');
      return {
        template,
        pattern: new RegExp(
          '^' + segments.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{[^}]+\\\}/g, '[^/]+'))).join('/') + '$',
        ),
        literals: segments.filter((s) => !s.includes('{')).length,
        operations: Object.fromEntries(Object.entries(item).filter(([m]) => HTTP_METHODS.has(m))),
      };
    });
    // OpenAPI's own keywords (example, discriminator, ...) are not JSON Schema's: not strict.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
    addFormats(this.ajv);
    this.ajv.addSchema(doc as unknown as Schema, 'openapi.json', undefined, false);
  }

  /** The documented operation a request reached, as the router picks it (literal segments first). */
  private operation(method: string, path: string): { template: string; op: Operation } | null {
    const candidates = this.routes.filter((r) => r.operations[method] && r.pattern.test(trim(path)));
    if (candidates.length === 0) return null;
    const best = candidates.reduce((a, b) => (b.literals > a.literals ? b : a));
    return { template: best.template, op: best.operations[method] };
  }

  private validator(template: string, method: string, status: string, mediaType: string): ValidateFunction {
    const ref = `openapi.json#/${pointer('paths', template, method, 'responses', status, 'content', mediaType, 'schema')}`;
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }

  /** What is wrong with one response, or nothing. */
  check(r: SeenResponse): string[] {
    const found = this.operation(r.method, r.path);
    if (!found) return []; // not an operation: unknown routes (404) and wrong methods (405)
    const { template, op } = found;
    const where = `${r.method.toUpperCase()} ${template} (${r.path}) → ${r.status}`;
    const status = [String(r.status), `${String(r.status)[0]}XX`, 'default'].find((s) => op.responses[s]);
    if (!status) return [`${where}: status not documented (documented: ${Object.keys(op.responses).join(', ')})`];
    const content = op.responses[status].content;
    if (!r.text) return [];
    if (!content) return [`${where}: a ${r.contentType || 'body'} body, but the response documents none`];
    const mediaType = r.contentType.split(';')[0].trim().toLowerCase();
    const documented = Object.keys(content).find((t) => t.toLowerCase() === mediaType) ?? Object.keys(content).find((t) => t === '*/*' || (t.endsWith('/*') && mediaType.startsWith(t.slice(0, -1))));
    if (!documented) return [`${where}: content type ${mediaType || '(none)'} not documented (documented: ${Object.keys(content).join(', ')})`];
    if (!content[documented].schema) return [];
    const validate = this.validator(template, r.method, status, documented);
    const problems = (value: unknown, what: string) =>
      validate(value) ? [] : [`${where}: ${what} does not match the schema: ${this.ajv.errorsText(validate.errors, { dataVar: 'body' })} — ${JSON.stringify(value).slice(0, 300)}`];
    if (/^application\/([\w.-]+\+)?json$/.test(documented)) {
      let body: unknown;
      try {
        body = JSON.parse(r.text);
      } catch {
        return [`${where}: ${mediaType} body is not JSON: ${r.text.slice(0, 200)}`];
      }
      return problems(body, 'body');
    }
    if (documented === 'text/event-stream') {
      return parseSse(r.text).flatMap((e, i) => {
        let data: unknown = e.data;
        try {
          data = JSON.parse(e.data);
        } catch {
          /* not JSON: stays a string (`[DONE]`) */
        }
        return problems({ ...(e.id !== undefined ? { id: e.id } : {}), event: e.event, data }, `event ${i + 1} (${e.event})`);
      });
    }
    return [];
  }
}

/** Checks what the file's tests saw against the document; the mismatches, one line each (deduplicated). */
export async function checkRecordedResponses(): Promise<string[]> {
  await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  if (seen.length === 0) return [];
  const res = await exports.default.fetch(new Request('http://localhost/openapi.json'));
  const checker = new DocumentChecker(await res.json());
  const problems = new Set(seen.flatMap((r) => checker.check(r)));
  seen.length = 0;
  return [...problems];
}
