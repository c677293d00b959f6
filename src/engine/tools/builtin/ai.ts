import { complete, defaultTarget } from '../../llm/gateway';
import type { ChatMessage } from '../../llm/types';
import { int, obj, str, tool } from '../define';
import type { ToolContext } from '../types';

const category = 'ai';

// Every AI tool is one call through the model gateway with the system default model, recorded
// like any other model call (source: tool), so usage and cost show up in monitoring.
async function ask(ctx: ToolContext, system: string, user: string, json = false) {
  const messages: ChatMessage[] = [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
  const target = defaultTarget(ctx.env);
  const result = await complete(
    ctx.env,
    target,
    { messages, temperature: 0, response_format: json ? 'json' : 'text', signal: ctx.signal },
    { user_id: ctx.userId, agent_id: ctx.agentId, session_id: ctx.sessionId, source: 'tool' },
  );
  return { text: result.content.trim(), model: result.model, usage: result.usage };
}

const longText = (d: string) => str(d, { minLength: 1, maxLength: 200000 });

export const aiSummarize = tool<{ text: string; max_words?: number; language?: string; style?: string }>({
  name: 'ai_summarize',
  category,
  description: 'Summarise a text with the platform model: a paragraph or bullet points, in a chosen length and language.',
  description_zh: '用平台模型总结文本:段落或要点形式,可指定长度和语言。',
  parameters: obj({ text: longText('The text to summarise'), max_words: int('Rough length limit', { minimum: 10, maximum: 2000, default: 150 }), language: str('Language of the summary (default: that of the text)'), style: { type: 'string', enum: ['paragraph', 'bullets'], default: 'paragraph' } }, ['text']),
  async execute({ text, max_words = 150, language, style = 'paragraph' }, ctx) {
    const r = await ask(
      ctx,
      `Summarise the user's text in at most ${max_words} words${language ? `, in ${language}` : ', in the language of the text'}, as ${style === 'bullets' ? 'bullet points' : 'one paragraph'}. Keep facts, names and numbers exact. Reply with the summary only.`,
      text,
    );
    return { summary: r.text, model: r.model, usage: r.usage };
  },
});

export const aiTranslate = tool<{ text: string; target_language: string; source_language?: string }>({
  name: 'ai_translate',
  category,
  description: 'Translate a text into another language with the platform model, keeping formatting, names and numbers.',
  description_zh: '用平台模型将文本翻译为目标语言,保留格式、名称和数字。',
  parameters: obj({ text: longText('The text'), target_language: str('Target language, e.g. English, 中文, ja', { minLength: 1, maxLength: 50 }), source_language: str('Source language (detected if omitted)', { maxLength: 50 }) }, ['text', 'target_language']),
  async execute({ text, target_language, source_language }, ctx) {
    const r = await ask(
      ctx,
      `Translate the user's text${source_language ? ` from ${source_language}` : ''} into ${target_language}. Keep Markdown, line breaks, names, numbers and code unchanged. Reply with the translation only.`,
      text,
    );
    return { translation: r.text, target_language, model: r.model, usage: r.usage };
  },
});

export const aiClassify = tool<{ text: string; labels: string[]; instructions?: string }>({
  name: 'ai_classify',
  category,
  description: 'Classify a text into one of the given labels with the platform model (sentiment, intent, topic, priority, ...).',
  description_zh: '用平台模型将文本归入给定类别之一(情感、意图、主题、优先级等)。',
  parameters: obj({ text: longText('The text'), labels: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 2, maxItems: 50, uniqueItems: true, description: 'The possible labels' }, instructions: str('What the labels mean or how to decide', { maxLength: 2000 }) }, ['text', 'labels']),
  async execute({ text, labels, instructions }, ctx) {
    const r = await ask(
      ctx,
      `Classify the user's text into exactly one of these labels: ${labels.map((l) => JSON.stringify(l)).join(', ')}.${instructions ? ` ${instructions}` : ''} Reply with the label only.`,
      text,
    );
    // Models add quotes or punctuation; take the exact label, else the first label the reply names.
    const reply = r.text.replace(/^["'`\s]+|["'`.\s]+$/g, '');
    const label = labels.find((l) => l.toLowerCase() === reply.toLowerCase()) ?? labels.find((l) => reply.toLowerCase().includes(l.toLowerCase())) ?? null;
    return { label, matched: label !== null, raw: r.text, model: r.model, usage: r.usage };
  },
});

/** The first JSON object or array in a model's reply (which may wrap it in prose or a fence). */
export function firstJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  const candidates = [fenced?.[1], text];
  for (const c of candidates) {
    if (!c) continue;
    const start = c.search(/[[{]/);
    if (start < 0) continue;
    for (let end = c.length; end > start; end--) {
      if (c[end - 1] !== '}' && c[end - 1] !== ']') continue;
      try {
        return JSON.parse(c.slice(start, end));
      } catch {
        /* try a shorter slice */
      }
    }
  }
  return undefined;
}

export const aiExtract = tool<{ text: string; fields: Record<string, string> | string[]; instructions?: string }>({
  name: 'ai_extract',
  category,
  description: 'Extract structured data from a text as JSON with the platform model: name the fields (and what they mean) and get an object back.',
  description_zh: '用平台模型从文本中抽取结构化数据并以 JSON 返回:给出字段(及含义),得到对象。',
  parameters: obj({
    text: longText('The text'),
    fields: { type: ['object', 'array'], description: 'Field names, or {field: description}', minItems: 1, minProperties: 1 },
    instructions: str('Extra guidance', { maxLength: 2000 }),
  }, ['text', 'fields']),
  async execute({ text, fields, instructions }, ctx) {
    const spec = Array.isArray(fields) ? fields.map((f) => `- ${f}`).join('\n') : Object.entries(fields).map(([k, d]) => `- ${k}: ${d}`).join('\n');
    const names = Array.isArray(fields) ? fields : Object.keys(fields);
    const r = await ask(
      ctx,
      `Extract these fields from the user's text and reply with one JSON object with exactly these keys (null where the text does not say):\n${spec}${instructions ? `\n${instructions}` : ''}`,
      text,
      true,
    );
    const parsed = firstJson(r.text);
    const data = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.fromEntries(names.map((n) => [n, (parsed as Record<string, unknown>)[n] ?? null])) : null;
    return { data, parsed: data !== null, raw: r.text, model: r.model, usage: r.usage };
  },
});

export const aiTools = [aiSummarize, aiTranslate, aiClassify, aiExtract];
