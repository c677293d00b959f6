/**
 * A small JSON Schema validator for tool arguments: the subset that function-calling schemas use
 * (type, properties, required, additionalProperties, items, enum, const, bounds, lengths,
 * pattern, a few formats, anyOf/oneOf/allOf, default). Errors name the field, e.g.
 * `arguments.city: is required`, so a caller (or a model) can fix the call.
 */

export type JsonSchema = Record<string, unknown>;

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return actual === type;
}

const FORMATS: Record<string, RegExp> = {
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[a-z][a-z0-9+.-]*:\S+$/i,
  url: /^https?:\/\/\S+$/i,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  date: /^\d{4}-\d{2}-\d{2}$/,
  'date-time': /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i,
};

function describe(value: unknown): string {
  const s = JSON.stringify(value);
  return s && s.length > 40 ? s.slice(0, 40) + '…' : String(s);
}

/** Every violation of `schema` by `value`, each as `path: message`; empty when valid. */
export function validateJson(schema: JsonSchema, value: unknown, path = 'arguments', errors: string[] = []): string[] {
  if (errors.length >= 10) return errors;
  const fail = (msg: string) => errors.push(`${path}: ${msg}`);

  if (Array.isArray(schema.allOf)) for (const s of schema.allOf as JsonSchema[]) validateJson(s, value, path, errors);
  if (Array.isArray(schema.anyOf) && !(schema.anyOf as JsonSchema[]).some((s) => validateJson(s, value, path).length === 0)) {
    fail('does not match any of the allowed schemas');
  }
  if (Array.isArray(schema.oneOf)) {
    const matches = (schema.oneOf as JsonSchema[]).filter((s) => validateJson(s, value, path).length === 0).length;
    if (matches !== 1) fail(`must match exactly one of the allowed schemas (matched ${matches})`);
  }

  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  if (types.length > 0 && !types.some((t) => matchesType(value, t))) {
    fail(`must be ${types.join(' or ')}, got ${typeOf(value) === 'integer' ? 'number' : typeOf(value)}`);
    return errors;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => deepEqual(e, value))) {
    fail(`must be one of ${(schema.enum as unknown[]).map(describe).join(', ')}`);
  }
  if ('const' in schema && !deepEqual(schema.const, value)) fail(`must be ${describe(schema.const)}`);

  if (typeof value === 'string') {
    const len = [...value].length;
    if (typeof schema.minLength === 'number' && len < schema.minLength) fail(`must be at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && len > schema.maxLength) fail(`must be at most ${schema.maxLength} characters`);
    if (typeof schema.pattern === 'string') {
      let re: RegExp | null = null;
      try {
        re = new RegExp(schema.pattern, 'u');
      } catch {
        /* an invalid pattern in a schema is not the caller's fault: ignore it */
      }
      if (re && !re.test(value)) fail(`must match the pattern ${schema.pattern}`);
    }
    const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined;
    if (format && !format.test(value)) fail(`must be a valid ${schema.format}`);
  }

  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`must be >= ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`must be <= ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) fail(`must be > ${schema.exclusiveMinimum}`);
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) fail(`must be < ${schema.exclusiveMaximum}`);
    if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0 && Math.abs(value / schema.multipleOf - Math.round(value / schema.multipleOf)) > 1e-9) {
      fail(`must be a multiple of ${schema.multipleOf}`);
    }
  }

  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail(`must have at least ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail(`must have at most ${schema.maxItems} items`);
    if (schema.uniqueItems === true && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) fail('must not contain duplicates');
    if (schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items)) {
      value.forEach((item, i) => validateJson(schema.items as JsonSchema, item, `${path}[${i}]`, errors));
    }
  }

  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
    if (Array.isArray(schema.required)) {
      for (const key of schema.required as string[]) if (obj[key] === undefined) errors.push(`${path}.${key}: is required`);
    }
    for (const [key, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      if (props[key]) validateJson(props[key], v, `${path}.${key}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${path}.${key}: is not an allowed property`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        validateJson(schema.additionalProperties as JsonSchema, v, `${path}.${key}`, errors);
      }
    }
    if (typeof schema.minProperties === 'number' && Object.keys(obj).length < schema.minProperties) fail(`must have at least ${schema.minProperties} properties`);
    if (typeof schema.maxProperties === 'number' && Object.keys(obj).length > schema.maxProperties) fail(`must have at most ${schema.maxProperties} properties`);
  }
  return errors;
}

/** The arguments with top-level defaults filled in (copies; the input is not changed). */
export function applyDefaults(schema: JsonSchema, args: Record<string, unknown>): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const out: Record<string, unknown> = { ...args };
  for (const [key, prop] of Object.entries(props)) {
    if (out[key] === undefined && prop && 'default' in prop) out[key] = structuredClone(prop.default);
  }
  return out;
}

/**
 * Problems with a parameter schema a user wrote (not with arguments): it must describe an object,
 * use known types, and name existing properties as required.
 */
export function checkParameterSchema(schema: unknown, path = 'body.parameters'): string[] {
  const errors: string[] = [];
  if (typeOf(schema) !== 'object') return [`${path}: must be a JSON Schema object`];
  const s = schema as JsonSchema;
  if (s.type !== 'object') errors.push(`${path}.type: must be "object"`);
  const walk = (node: unknown, at: string, depth: number) => {
    if (depth > 16) return errors.push(`${at}: nested too deeply`);
    if (typeOf(node) !== 'object') return errors.push(`${at}: must be a schema object`);
    const n = node as JsonSchema;
    const types = n.type === undefined ? [] : Array.isArray(n.type) ? n.type : [n.type];
    for (const t of types) if (typeof t !== 'string' || !TYPES.has(t)) errors.push(`${at}.type: unknown type ${describe(t)}`);
    if (n.properties !== undefined) {
      if (typeOf(n.properties) !== 'object') errors.push(`${at}.properties: must be an object`);
      else for (const [k, v] of Object.entries(n.properties as object)) walk(v, `${at}.properties.${k}`, depth + 1);
    }
    if (n.required !== undefined && (!Array.isArray(n.required) || !n.required.every((r) => typeof r === 'string'))) {
      errors.push(`${at}.required: must be an array of property names`);
    }
    if (n.items !== undefined) walk(n.items, `${at}.items`, depth + 1);
    if (typeof n.pattern === 'string') {
      try {
        new RegExp(n.pattern, 'u');
      } catch {
        errors.push(`${at}.pattern: is not a valid regular expression`);
      }
    }
    return undefined;
  };
  walk(s, path, 0);
  return errors;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
