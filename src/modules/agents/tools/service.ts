import type { z } from '@hono/zod-openapi';
import type { Env } from '../../../env';
import { builtinTools, findBuiltinTool, findDynamicTool, TOOL_CATEGORIES, type DynamicTool } from '../../../engine/tools/registry';
import { checkUrlTemplate, isSecretHeader, placeholders, type CodeToolConfig, type StoredHttpConfig } from '../../../engine/tools/custom';
import { invokeTool, runCustomDefinition, toApiError, validateArguments } from '../../../engine/tools/invoke';
import { checkParameterSchema } from '../../../engine/tools/json-schema';
import { MCP_TOOL_PREFIX } from '../../../engine/plugins/mcp';
import { enabledPluginTools, isPluginRef, type PluginTool } from '../../../engine/plugins/tools';
import type { BuiltinTool, ToolContext } from '../../../engine/tools/types';
import { encryptSecret, maskSecret } from '../../../lib/crypto';
import { conflict, notFound, validationError } from '../../../lib/errors';
import { describeZodError } from '../../../lib/router';
import { type Pagination, paginated } from '../../../lib/pagination';
import { getSecret } from '../../../lib/secrets';
import { CodeConfigSchema, HttpConfigSchema, type CreateToolInput, type ToolSchema, type UpdateToolInput } from './schemas';
import * as store from './store';
import type { CustomToolRow } from './store';

type Tool = z.infer<typeof ToolSchema>;
type HttpConfigInput = z.infer<typeof HttpConfigSchema>;
type CodeConfigInput = z.infer<typeof CodeConfigSchema>;

export function builtinView(env: Env, t: BuiltinTool): Tool {
  return {
    id: t.name,
    name: t.name,
    description: t.description,
    description_zh: t.description_zh,
    category: t.category,
    type: 'builtin',
    builtin: true,
    configured: t.isConfigured ? t.isConfigured(env) : true,
    parameters: t.parameters,
    config: null,
    owner_id: null,
    created_at: null,
    updated_at: null,
  };
}

function customView(row: CustomToolRow): Tool {
  const config = JSON.parse(row.config) as StoredHttpConfig | CodeToolConfig;
  let shown: Record<string, unknown>;
  if (row.type === 'http') {
    const http = config as StoredHttpConfig;
    const headers: Record<string, string> = { ...http.headers };
    // Secrets are shown masked from a hint stored at encryption time, never decrypted for display.
    for (const name of Object.keys(http.secret_headers ?? {})) headers[name] = http.secret_masks?.[name] ?? '…';
    shown = { method: http.method, url: http.url, headers, body: http.body, timeout_ms: http.timeout_ms, secret_headers: Object.keys(http.secret_headers ?? {}) };
  } else {
    shown = { ...(config as CodeToolConfig) };
  }
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    description_zh: null,
    category: row.category,
    type: row.type,
    builtin: false,
    configured: true,
    parameters: JSON.parse(row.parameters),
    config: shown,
    owner_id: row.ownerId,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/** A tool of an installed, enabled plugin (see src/engine/plugins): type `plugin` (OpenAPI) or `mcp`. */
function pluginView(t: PluginTool): Tool {
  return {
    id: t.ref,
    name: t.name,
    description: t.description,
    description_zh: null,
    category: t.category,
    type: t.type,
    builtin: false,
    configured: true,
    parameters: t.parameters,
    config: { plugin_id: t.plugin_id, plugin_name: t.plugin_name },
    owner_id: null,
    created_at: null,
    updated_at: null,
  };
}

function matches(t: { name: string; description: string; description_zh: string | null }, search?: string) {
  if (!search) return true;
  const q = search.toLowerCase();
  return t.name.toLowerCase().includes(q) || t.description.toLowerCase().includes(q) || (t.description_zh ?? '').toLowerCase().includes(q);
}

/**
 * The user's custom tools (newest first) followed by the builtin registry, filtered and paged as
 * one list; custom tools are paged in SQL so the listing stays cheap however many there are.
 */
export async function listTools(env: Env, userId: string, q: Pagination & { category?: string; type?: string; search?: string }) {
  // Plugin tools (OpenAPI and MCP) and builtins are paged in memory after the custom tools (the lists are small).
  const plugins =
    q.type && q.type !== 'plugin' && q.type !== 'mcp'
      ? []
      : (await enabledPluginTools(env, userId)).filter((t) => (!q.type || t.type === q.type) && (!q.category || t.category === q.category) && matches({ ...t, description_zh: null }, q.search));
  const builtins = [
    ...plugins.map(pluginView),
    ...(q.type && q.type !== 'builtin' ? [] : builtinTools.filter((t) => (!q.category || t.category === q.category) && matches(t, q.search)).map((t) => builtinView(env, t))),
  ];
  const wantCustom = !q.type || q.type === 'http' || q.type === 'code';
  const offset = (q.page - 1) * q.page_size;
  let customTotal = 0;
  let customRows: CustomToolRow[] = [];
  if (wantCustom) {
    const type = q.type === 'http' || q.type === 'code' ? q.type : undefined;
    ({ rows: customRows, total: customTotal } = await store.listCustomTools(env.DB, userId, { type, category: q.category, search: q.search }, q.page_size, offset));
  }
  const items: Tool[] = customRows.map(customView);
  const builtinStart = Math.max(0, offset - customTotal);
  for (const t of builtins.slice(builtinStart, builtinStart + q.page_size - items.length)) items.push(t);
  return paginated(items, customTotal + builtins.length, q);
}

export async function listCategories(env: Env, userId: string) {
  const [results, pluginTools] = await Promise.all([
    store.customToolCategoryCounts(env.DB, userId),
    enabledPluginTools(env, userId),
  ]);
  const custom = new Map(results.map((r) => [r.category, r.n]));
  const builtin = new Map<string, number>();
  for (const t of builtinTools) builtin.set(t.category, (builtin.get(t.category) ?? 0) + 1);
  const plugin = new Map<string, number>();
  for (const t of pluginTools) plugin.set(t.category, (plugin.get(t.category) ?? 0) + 1);
  const extra = [...new Set([...custom.keys(), ...plugin.keys()])].sort();
  const names = [...new Set([...TOOL_CATEGORIES.filter((c) => builtin.has(c)), ...builtin.keys(), ...extra])];
  return names.map((category) => {
    const b = builtin.get(category) ?? 0;
    const c = custom.get(category) ?? 0;
    const p = plugin.get(category) ?? 0;
    return { category, count: b + c + p, builtin_count: b, custom_count: c, plugin_count: p };
  });
}

export async function getTool(env: Env, userId: string, toolId: string): Promise<Tool> {
  const builtin = findBuiltinTool(toolId);
  if (builtin) return builtinView(env, builtin);
  // Plugin tools, MCP ones included, from the cached lists in D1: no call to the servers.
  if (isPluginRef(toolId) || toolId.startsWith(MCP_TOOL_PREFIX)) {
    const t = (await enabledPluginTools(env, userId)).find((p) => p.ref === toolId);
    if (t) return pluginView(t);
    if (isPluginRef(toolId)) throw notFound('Tool');
  }
  const dynamic = await findDynamicTool({ env, userId }, toolId);
  if (dynamic) return dynamicView(dynamic);
  const row = await store.findCustomTool(env.DB, userId, toolId);
  if (!row) throw notFound('Tool');
  return customView(row);
}

/** A user's dynamic tool of another provider: addressed by its name, like builtins. */
function dynamicView(t: DynamicTool): Tool {
  return {
    id: t.name,
    name: t.name,
    description: t.description,
    description_zh: null,
    category: t.type,
    type: t.type as Tool['type'],
    builtin: false,
    configured: true,
    parameters: t.parameters,
    config: null,
    owner_id: null,
    created_at: null,
    updated_at: null,
  };
}

function checkSchema(parameters: Record<string, unknown>) {
  const errors = checkParameterSchema(parameters);
  if (errors.length > 0) throw validationError(errors.slice(0, 5).join('; '));
}

/** Every {{placeholder}} of a template must name a declared parameter (its first path part). */
function checkPlaceholders(parameters: Record<string, unknown>, templates: Array<[string, string]>) {
  const declared = new Set(Object.keys((parameters.properties ?? {}) as object));
  for (const [where, template] of templates) {
    for (const p of placeholders(template)) {
      const root = p.split('.')[0];
      if (!declared.has(root)) throw validationError(`${where}: placeholder {{${p}}} is not a declared parameter`);
    }
  }
}

async function storeHttpConfig(env: Env, parameters: Record<string, unknown>, input: HttpConfigInput, previous?: StoredHttpConfig): Promise<StoredHttpConfig> {
  checkUrlTemplate(env, input.url);
  checkPlaceholders(parameters, [
    ['body.config.url', input.url],
    ...Object.entries(input.headers).map(([k, v]) => [`body.config.headers.${k}`, v] as [string, string]),
    ...(input.body ? [['body.config.body', input.body] as [string, string]] : []),
  ]);
  const extraSecret = new Set(input.secret_headers.map((h) => h.toLowerCase()));
  const headers: Record<string, string> = {};
  const secret_headers: Record<string, string> = {};
  const secret_masks: Record<string, string> = {};
  const key = await getSecret(env, 'ENCRYPTION_KEY');
  for (const [name, value] of Object.entries(input.headers)) {
    if (!isSecretHeader(name) && !extraSecret.has(name.toLowerCase())) {
      headers[name] = value;
      continue;
    }
    // Sending back the masked value we showed keeps the stored secret (clients round-trip configs).
    const prevName = previous && Object.keys(previous.secret_headers ?? {}).find((n) => n.toLowerCase() === name.toLowerCase());
    if (previous && prevName && (value === previous.secret_masks?.[prevName] || value === '')) {
      secret_headers[name] = previous.secret_headers[prevName];
      secret_masks[name] = previous.secret_masks?.[prevName] ?? '…';
      continue;
    }
    secret_headers[name] = await encryptSecret(value, key);
    secret_masks[name] = maskHeader(value);
  }
  return { method: input.method, url: input.url, headers, secret_headers, secret_masks, body: input.body, timeout_ms: input.timeout_ms };
}

/** `Bearer sk-abc…` keeps the scheme word readable and masks the credential. */
function maskHeader(value: string): string {
  const m = /^(\w+\s+)(.+)$/.exec(value);
  return m ? m[1] + maskSecret(m[2]) : (maskSecret(value) ?? '…');
}

function parseConfig<T extends z.ZodTypeAny>(schema: T, config: unknown): z.infer<T> {
  const parsed = schema.safeParse(config);
  if (!parsed.success) throw validationError(describeZodError('config', parsed.error).replace(/(^|; )config/g, '$1body.config'));
  return parsed.data;
}

async function assertNameFree(env: Env, userId: string, name: string, exceptId?: string) {
  if (findBuiltinTool(name)) throw conflict(`${name} is the name of a builtin tool`);
  if (await store.customToolNameTaken(env.DB, userId, name, exceptId)) throw conflict(`You already have a tool named ${name}`);
}

const uniqueViolation = (e: unknown) => String(e).includes('UNIQUE');

export async function createTool(env: Env, userId: string, input: CreateToolInput): Promise<Tool> {
  checkSchema(input.parameters);
  await assertNameFree(env, userId, input.name);
  const config = input.type === 'http' ? await storeHttpConfig(env, input.parameters, input.config) : (input.config satisfies CodeConfigInput as CodeToolConfig);
  const id = crypto.randomUUID();
  await store
    .insertCustomTool(env.DB, {
      id,
      ownerId: userId,
      name: input.name,
      description: input.description,
      type: input.type,
      category: input.category,
      parameters: JSON.stringify(input.parameters),
      config: JSON.stringify(config),
    })
    .catch((e: unknown) => {
      if (uniqueViolation(e)) throw conflict(`You already have a tool named ${input.name}`);
      throw e;
    });
  return getTool(env, userId, id);
}

export async function updateTool(env: Env, userId: string, toolId: string, input: UpdateToolInput): Promise<Tool> {
  if (findBuiltinTool(toolId)) throw validationError('Builtin tools cannot be changed');
  const row = await store.findCustomTool(env.DB, userId, toolId);
  if (!row) throw notFound('Tool');
  const parameters = input.parameters ?? (JSON.parse(row.parameters) as Record<string, unknown>);
  if (input.parameters) checkSchema(parameters);
  if (input.name && input.name.toLowerCase() !== row.name.toLowerCase()) await assertNameFree(env, userId, input.name, row.id);
  const stored = JSON.parse(row.config) as StoredHttpConfig | CodeToolConfig;
  let config: StoredHttpConfig | CodeToolConfig = stored;
  if (row.type === 'http') {
    const prev = stored as StoredHttpConfig;
    // Without a new config, the stored one is re-checked against new parameters.
    const input_ = input.config
      ? parseConfig(HttpConfigSchema, input.config)
      : { ...prev, headers: { ...prev.headers, ...Object.fromEntries(Object.keys(prev.secret_headers).map((k) => [k, prev.secret_masks?.[k] ?? ''])) }, secret_headers: Object.keys(prev.secret_headers) };
    config = await storeHttpConfig(env, parameters, input_, prev);
  } else if (input.config) {
    config = parseConfig(CodeConfigSchema, input.config);
  }
  await store
    .updateCustomTool(env.DB, userId, row.id, {
      name: input.name ?? row.name,
      description: input.description ?? row.description,
      category: input.category ?? row.category,
      parameters: JSON.stringify(parameters),
      config: JSON.stringify(config),
    })
    .catch((e: unknown) => {
      if (uniqueViolation(e)) throw conflict(`You already have a tool named ${input.name}`);
      throw e;
    });
  return getTool(env, userId, row.id);
}

export async function deleteTool(env: Env, userId: string, toolId: string) {
  if (findBuiltinTool(toolId)) throw validationError('Builtin tools cannot be deleted');
  if (!(await store.deleteCustomTool(env.DB, userId, toolId))) throw notFound('Tool');
}

export async function useTool(ctx: ToolContext, toolId: string, args: Record<string, unknown>) {
  const tool = await getTool(ctx.env, ctx.userId, toolId);
  const outcome = await invokeTool(ctx, tool.id, args);
  return { tool_id: tool.id, tool_name: tool.name, ...outcome };
}

/** Runs an unsaved definition: the same checks as saving, nothing stored. */
export async function testDefinition(
  ctx: ToolContext,
  type: 'http' | 'code',
  parameters: Record<string, unknown> | undefined,
  config: HttpConfigInput | CodeConfigInput,
  args: Record<string, unknown>,
) {
  const schema = parameters ?? { type: 'object', properties: Object.fromEntries(Object.keys(args).map((k) => [k, {}])) };
  if (parameters) checkSchema(parameters);
  const stored = type === 'http' ? await storeHttpConfig(ctx.env, schema, config as HttpConfigInput) : (config as CodeToolConfig);
  const valid = validateArguments(schema, args);
  const started = Date.now();
  try {
    const { output, logs } = await runCustomDefinition(ctx, type, stored, valid);
    return { tool_id: `test:${type}`, tool_name: `test_${type}`, output, duration_ms: Date.now() - started, ...(logs ? { logs } : {}) };
  } catch (e) {
    throw toApiError(e, `test_${type}`);
  }
}
