import { z } from 'zod';
import { renderText } from '../variables';
import type { NodeType } from '../node';
import { out } from './helpers';

const AnswerConfig = z.object({ answer: z.string().min(1) });
export const answer: NodeType<z.infer<typeof AnswerConfig>> = {
  type: 'answer',
  description: 'A text answer (template over variables); ends the run or continues.',
  config: AnswerConfig,
  ports: out,
  outputs: () => ['answer'],
  terminal: true,
  async run(ctx, c) {
    return { output: { answer: renderText(c.answer, ctx.scope) } };
  },
};
