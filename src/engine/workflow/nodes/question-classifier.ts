import { z } from 'zod';
import { renderText } from '../variables';
import type { NodeType } from '../node';
import { ModelSchema, callModel, extractJsonObject, portId } from './helpers';

const ClassifierConfig = z.object({
  query: z.string().min(1),
  classes: z
    .array(z.object({ id: portId, name: z.string().min(1).max(100), description: z.string().max(1000).optional() }))
    .min(2)
    .max(20),
  instruction: z.string().max(10_000).optional(),
  /** The class taken when the answer names none (default: the last class). */
  default_class: z.string().optional(),
  model: ModelSchema,
});
export const questionClassifier: NodeType<z.infer<typeof ClassifierConfig>> = {
  type: 'question_classifier',
  description: 'Routes by the class a model assigns to the query; one output port per class id.',
  config: ClassifierConfig,
  ports: (c) => c.classes.map((k) => k.id),
  outputs: () => ['class_id', 'class_name', 'text'],
  async run(ctx, c) {
    const list = c.classes.map((k) => `- ${k.name}${k.description ? `: ${k.description}` : ''}`).join('\n');
    const system =
      `Classify the user's text into exactly one of these classes and answer with the class name only.\n${list}` +
      (c.instruction ? `\n${renderText(c.instruction, ctx.scope)}` : '');
    const query = renderText(c.query, ctx.scope);
    const r = await callModel(ctx, c.model, [
      { role: 'system', content: system },
      { role: 'user', content: query },
    ]);
    const chosen = pickClass(r.content, c.classes) ?? c.classes.find((k) => k.id === c.default_class) ?? c.classes[c.classes.length - 1];
    return { output: { class_id: chosen.id, class_name: chosen.name, text: r.content }, branch: chosen.id };
  },
};

/** The class an answer names: `{"class": ...}`, an exact name, else the first name it mentions. */
export function pickClass<T extends { id: string; name: string }>(answerText: string, classes: T[]): T | undefined {
  const json = extractJsonObject(answerText);
  const named = typeof json?.class === 'string' ? json.class : answerText;
  const text = named.trim().toLowerCase();
  const exact = classes.find((k) => k.name.toLowerCase() === text || k.id.toLowerCase() === text);
  if (exact) return exact;
  let best: { k: T; at: number } | undefined;
  for (const k of classes) {
    const at = text.indexOf(k.name.toLowerCase());
    if (at !== -1 && (!best || at < best.at)) best = { k, at };
  }
  return best?.k;
}
