import { z } from 'zod';
import type { ChatMessage } from '../../llm/types';
import { renderText } from '../variables';
import type { NodeType } from '../node';
import { ModelSchema, callModel, extractJsonObject, out } from './helpers';

const LlmConfig = z.object({
  model: ModelSchema,
  system_prompt: z.string().max(100_000).optional(),
  prompt: z.string().min(1).max(100_000),
  response_format: z.enum(['text', 'json']).default('text'),
});
export const llm: NodeType<z.infer<typeof LlmConfig>> = {
  type: 'llm',
  description: 'One model call: system prompt and user prompt (templates) → text (and json).',
  config: LlmConfig,
  ports: out,
  outputs: () => ['text', 'json', 'usage', 'model'],
  async run(ctx, c) {
    const messages: ChatMessage[] = [];
    if (c.system_prompt) messages.push({ role: 'system', content: renderText(c.system_prompt, ctx.scope) });
    messages.push({ role: 'user', content: renderText(c.prompt, ctx.scope) });
    const r = await callModel(ctx, c.model, messages, c.response_format);
    return { output: { text: r.content, json: c.response_format === 'json' ? extractJsonObject(r.content) : null, usage: r.usage, model: r.model } };
  },
};
