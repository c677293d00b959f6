import { z } from 'zod';
import { renderText } from '../variables';
import type { NodeType } from '../node';
import { out } from './helpers';

const TemplateConfig = z.object({ template: z.string().max(100_000) });
export const template: NodeType<z.infer<typeof TemplateConfig>> = {
  type: 'template',
  description: 'String templating over variables → {text}.',
  config: TemplateConfig,
  ports: out,
  outputs: () => ['text'],
  rawKeys: ['template'],
  async run(ctx, c) {
    return { output: { text: renderText(c.template, ctx.scope) } };
  },
};
