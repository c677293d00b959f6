import { validationError } from '../../lib/errors';

/**
 * Turns an OpenAPI 3 document (JSON) into plugin operations: each path + method becomes one tool
 * whose arguments are the operation's path, query and header parameters plus `body` (the JSON
 * request body). The document's security scheme decides which settings an installer provides.
 */
export interface PluginAuth {
  /** `headers`: an MCP plugin's request headers, one setting per header name. */
  type: 'none' | 'api_key' | 'bearer' | 'basic' | 'headers';
  /** api_key: where and under which name the key goes. */
  in?: 'header' | 'query';
  name?: string;
  /** headers: the header names an installer gives values for. */
  headers?: string[];
}

export interface PluginOperation {
  name: string;
  description: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  parameters: Record<string, unknown>;
  /** Where each argument goes. */
  locations: Record<string, 'path' | 'query' | 'header' | 'body'>;
}

export interface ImportedSpec {
  title: string;
  description: string;
  version: string;
  base_url: string;
  auth: PluginAuth;
  operations: PluginOperation[];
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
export const MAX_OPERATIONS = 50;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Resolves local `#/components/...` references (one level at a time, cycles cut). */
function deref(doc: Obj, node: unknown, seen = new Set<string>()): unknown {
  if (!isObj(node)) return Array.isArray(node) ? node.map((n) => deref(doc, n, seen)) : node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    if (!ref.startsWith('#/') || seen.has(ref)) return {};
    let target: unknown = doc;
    for (const part of ref.slice(2).split('/')) target = isObj(target) ? target[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    return deref(doc, target, new Set([...seen, ref]));
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, deref(doc, v, seen)]));
}

/** Tool names the models accept: letters, digits, underscores. */
export function toolName(raw: string): string {
  const name = raw
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 48);
  return /^[A-Za-z]/.test(name) ? name : `op_${name}`;
}

function authOf(doc: Obj): PluginAuth {
  const schemes = isObj(doc.components) && isObj(doc.components.securitySchemes) ? doc.components.securitySchemes : {};
  const required = Array.isArray(doc.security) ? doc.security.flatMap((s) => (isObj(s) ? Object.keys(s) : [])) : [];
  const name = required.find((n) => n in schemes) ?? Object.keys(schemes)[0];
  const scheme = name ? (deref(doc, schemes[name]) as Obj) : null;
  if (!scheme) return { type: 'none' };
  if (scheme.type === 'apiKey') {
    if (scheme.in !== 'header' && scheme.in !== 'query') throw validationError(`body.openapi: apiKey in ${String(scheme.in)} is not supported (header or query)`);
    return { type: 'api_key', in: scheme.in, name: String(scheme.name ?? 'X-API-Key') };
  }
  if (scheme.type === 'http' && String(scheme.scheme).toLowerCase() === 'bearer') return { type: 'bearer' };
  if (scheme.type === 'http' && String(scheme.scheme).toLowerCase() === 'basic') return { type: 'basic' };
  throw validationError(`body.openapi: security scheme ${name} (${String(scheme.type)}) is not supported: use apiKey, http bearer or http basic`);
}

export function importOpenApi(raw: unknown): ImportedSpec {
  if (!isObj(raw)) throw validationError('body.openapi: must be an OpenAPI 3 document (a JSON object)');
  const doc = raw;
  if (typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.')) throw validationError('body.openapi.openapi: only OpenAPI 3.x documents are supported');
  const info = isObj(doc.info) ? doc.info : {};
  const server = Array.isArray(doc.servers) && isObj(doc.servers[0]) ? String(doc.servers[0].url ?? '') : '';
  if (!/^https?:\/\//i.test(server)) throw validationError('body.openapi.servers: the first server must have an absolute http(s) URL');
  if (!isObj(doc.paths)) throw validationError('body.openapi.paths: no paths');

  const operations: PluginOperation[] = [];
  const names = new Set<string>();
  for (const [path, rawItem] of Object.entries(doc.paths)) {
    const item = deref(doc, rawItem) as Obj;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isObj(op)) continue;
      let name = toolName(typeof op.operationId === 'string' ? op.operationId : `${method}_${path}`);
      for (let i = 2; names.has(name); i++) name = `${name.slice(0, 45)}_${i}`;
      names.add(name);
      const properties: Obj = {};
      const required: string[] = [];
      const locations: PluginOperation['locations'] = {};
      for (const p of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        if (!isObj(p) || typeof p.name !== 'string' || !['path', 'query', 'header'].includes(String(p.in))) continue;
        const schema: Obj = isObj(p.schema) ? { ...p.schema } : { type: 'string' };
        if (typeof p.description === 'string') schema.description = p.description;
        properties[p.name] = schema;
        locations[p.name] = p.in as 'path' | 'query' | 'header';
        if (p.required || p.in === 'path') required.push(p.name);
      }
      const body = isObj(op.requestBody) && isObj(op.requestBody.content) ? op.requestBody.content['application/json'] : undefined;
      if (isObj(body)) {
        properties.body = isObj(body.schema) ? body.schema : { type: 'object' };
        locations.body = 'body';
        if ((op.requestBody as Obj).required) required.push('body');
      }
      operations.push({
        name,
        description: String(op.summary ?? op.description ?? `${method.toUpperCase()} ${path}`).slice(0, 1000),
        method: method.toUpperCase() as PluginOperation['method'],
        path,
        parameters: { type: 'object', properties, required },
        locations,
      });
    }
  }
  if (!operations.length) throw validationError('body.openapi.paths: the document has no operations');
  if (operations.length > MAX_OPERATIONS) throw validationError(`body.openapi.paths: at most ${MAX_OPERATIONS} operations per plugin`);
  return {
    title: String(info.title ?? 'Plugin').slice(0, 100),
    description: String(info.description ?? '').slice(0, 2000),
    version: String(info.version ?? '1.0.0').slice(0, 30),
    base_url: server.replace(/\/+$/, ''),
    auth: authOf(doc),
    operations,
  };
}

/** The settings an installer must give for an auth scheme. */
export function requiredSettings(auth: PluginAuth): string[] {
  if (auth.type === 'headers') return auth.headers ?? [];
  return { none: [], api_key: ['api_key'], bearer: ['token'], basic: ['username', 'password'] }[auth.type];
}
