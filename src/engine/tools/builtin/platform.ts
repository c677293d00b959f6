import { bool, int, obj, str, tool, toolInputError } from '../define';
import { toolHost } from '../host';
import type { ToolContext } from '../types';

const category = 'platform';
const MAX_VALUE_BYTES = 64 * 1024;
const MAX_KEYS_PER_SCOPE = 1000;

/** Memory belongs to the user and, inside a chat, to that session; elsewhere to a named namespace. */
function scopeOf(ctx: ToolContext, namespace?: string): string {
  if (namespace) return `ns:${namespace}`;
  return ctx.sessionId ? `session:${ctx.sessionId}` : 'ns:default';
}

export const memoryStore = tool<{ key: string; value: unknown; namespace?: string }>({
  name: 'memory_store',
  category,
  description: 'Remember a value under a key for later in this conversation (or in a named namespace across conversations); storing again overwrites.',
  description_zh: '在当前会话(或指定命名空间,跨会话)中以键保存一个值供之后使用;重复保存会覆盖。',
  parameters: obj({ key: str('The key', { minLength: 1, maxLength: 200 }), value: { description: 'Any JSON value' }, namespace: str('Share across sessions under this name', { minLength: 1, maxLength: 100 }) }, ['key', 'value']),
  async execute({ key, value, namespace }, ctx) {
    const json = JSON.stringify(value);
    if (new TextEncoder().encode(json).length > MAX_VALUE_BYTES) throw toolInputError(`arguments.value: must be at most ${MAX_VALUE_BYTES} bytes as JSON`);
    const scope = scopeOf(ctx, namespace);
    // One statement refuses a new key past the cap and upserts otherwise, so concurrent stores agree.
    const stored = await toolHost().memory.put(ctx.env.DB, ctx.userId, scope, key, json, MAX_KEYS_PER_SCOPE);
    if (!stored) throw toolInputError(`This memory already holds ${MAX_KEYS_PER_SCOPE} keys; delete some first`);
    return { stored: true, key, scope };
  },
});

export const memoryRecall = tool<{ key?: string; prefix?: string; namespace?: string; delete?: boolean; limit?: number }>({
  name: 'memory_recall',
  category,
  description: 'Recall remembered values: one key, the keys starting with a prefix, or everything in this conversation\'s memory; optionally forget them.',
  description_zh: '读取已保存的记忆:指定键、某前缀的所有键或当前会话的全部记忆;可选读取后删除。',
  parameters: obj({ key: str('One key', { minLength: 1, maxLength: 200 }), prefix: str('Keys starting with this', { maxLength: 200 }), namespace: str('The namespace used when storing', { minLength: 1, maxLength: 100 }), delete: bool('Forget what is recalled', { default: false }), limit: int('At most this many entries', { minimum: 1, maximum: 1000, default: 100 }) }),
  async execute({ key, prefix, namespace, delete: forget = false, limit = 100 }, ctx) {
    const scope = scopeOf(ctx, namespace);
    const memory = toolHost().memory;
    const rows = await memory.find(ctx.env.DB, ctx.userId, scope, { key, prefix }, limit);
    const entries = rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) as unknown, updated_at: r.updatedAt }));
    if (forget && entries.length > 0) {
      await memory.delete(ctx.env.DB, ctx.userId, scope, entries.map((e) => e.key));
    }
    if (key !== undefined) return { found: entries.length > 0, key, value: entries[0]?.value ?? null, scope, deleted: forget && entries.length > 0 };
    return { count: entries.length, entries, scope, deleted: forget ? entries.length : 0 };
  },
});

export const platformTools = [memoryStore, memoryRecall];
