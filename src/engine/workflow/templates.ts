import type { Graph, InputDef } from './types';

/**
 * A builtin workflow template; `sample_inputs` run it as it is (the test suite does), except for
 * a knowledge base id (`kb_id`), which must name one of the user's own.
 */
export interface WorkflowTemplate {
  id: string;
  name: string;
  description: string;
  category: string;
  graph: Graph;
  inputs_schema: InputDef[];
  sample_inputs: Record<string, unknown>;
}

const e = (source: string, target: string, source_handle?: string) => ({ source, target, ...(source_handle ? { source_handle } : {}) });

export const workflowTemplates: WorkflowTemplate[] = [
  {
    id: 'grounded-qa',
    name: 'Grounded question answering',
    description: 'Answers a question from the context it is given (retrieved passages), citing nothing it was not told.',
    category: 'rag',
    inputs_schema: [
      { name: 'question', type: 'string', required: true },
      { name: 'context', type: 'string', required: true, description: 'Retrieved passages' },
    ],
    sample_inputs: { question: 'What is the refund window?', context: 'Refunds are accepted within 30 days of purchase.' },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'prompt',
          type: 'template',
          config: { template: 'Context:\n{{inputs.context}}\n\nQuestion: {{inputs.question}}' },
        },
        {
          id: 'answer_llm',
          type: 'llm',
          config: {
            system_prompt: 'Answer only from the context. If the context does not contain the answer, say so.',
            prompt: '{{prompt.text}}',
          },
          retry: { max_retries: 2, backoff_ms: 500, backoff: 'exponential' },
        },
        { id: 'end', type: 'end', config: { outputs: { answer: '{{answer_llm.text}}' } } },
      ],
      edges: [e('start', 'prompt'), e('prompt', 'answer_llm'), e('answer_llm', 'end')],
    },
  },
  {
    id: 'rag-qa',
    name: 'RAG Q&A',
    description: 'Retrieves passages from a knowledge base, answers the question from them alone and returns the answer with its citations.',
    category: 'rag',
    inputs_schema: [
      { name: 'question', type: 'string', required: true },
      { name: 'kb_id', type: 'string', required: true, description: 'A knowledge base you may read' },
    ],
    sample_inputs: { question: 'What is the refund window?', kb_id: '<the id of a knowledge base you may read>' },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'retrieve', type: 'knowledge_retrieval', config: { kb_ids: ['{{inputs.kb_id}}'], query: '{{inputs.question}}', top_k: 4 } },
        {
          id: 'generate',
          type: 'llm',
          config: {
            system_prompt: [
              'You answer questions using only the numbered passages below, taken from a knowledge base.',
              'Cite the passages you use by their numbers in square brackets, like [1] or [2][3], right after the statements they support.',
              'If the passages do not contain the answer, say that the knowledge base does not contain it; do not invent.',
              'Answer in the language of the question.',
              '',
              'Passages:',
              '{{retrieve.context}}',
            ].join('\n'),
            prompt: '{{inputs.question}}',
          },
          retry: { max_retries: 2, backoff_ms: 500, backoff: 'exponential' },
        },
        { id: 'answer', type: 'answer', config: { answer: '{{generate.text}}' } },
        { id: 'end', type: 'end', config: { outputs: { citations: '{{retrieve.chunks}}' } } },
      ],
      edges: [e('start', 'retrieve'), e('retrieve', 'generate'), e('generate', 'answer'), e('answer', 'end')],
    },
  },
  {
    id: 'ticket-router',
    name: 'Support ticket router',
    description: 'Classifies a support ticket (billing, technical, other) and drafts a reply in the matching tone.',
    category: 'routing',
    inputs_schema: [{ name: 'ticket', type: 'string', required: true }],
    sample_inputs: { ticket: 'I was charged twice, please fix my billing' },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'classify',
          type: 'question_classifier',
          config: {
            query: '{{inputs.ticket}}',
            classes: [
              { id: 'billing', name: 'billing', description: 'payments, invoices, refunds' },
              { id: 'technical', name: 'technical', description: 'bugs, errors, outages' },
              { id: 'other', name: 'other', description: 'anything else' },
            ],
          },
        },
        { id: 'billing_reply', type: 'llm', config: { system_prompt: 'You are the billing team.', prompt: '{{inputs.ticket}}' } },
        { id: 'tech_reply', type: 'llm', config: { system_prompt: 'You are a support engineer.', prompt: '{{inputs.ticket}}' } },
        { id: 'other_reply', type: 'template', config: { template: 'Thanks for reaching out; a colleague will answer soon.' } },
        {
          id: 'merge',
          type: 'variable_aggregator',
          config: { variables: ['billing_reply.text', 'tech_reply.text', 'other_reply.text'] },
        },
        { id: 'end', type: 'end', config: { outputs: { queue: '{{classify.class_id}}', reply: '{{merge.output}}' } } },
      ],
      edges: [
        e('start', 'classify'),
        e('classify', 'billing_reply', 'billing'),
        e('classify', 'tech_reply', 'technical'),
        e('classify', 'other_reply', 'other'),
        e('billing_reply', 'merge'),
        e('tech_reply', 'merge'),
        e('other_reply', 'merge'),
        e('merge', 'end'),
      ],
    },
  },
  {
    id: 'translate-review',
    name: 'Translate and review',
    description: 'Translates a text, has a second pass review the translation, and returns both.',
    category: 'content',
    inputs_schema: [
      { name: 'text', type: 'string', required: true },
      { name: 'language', type: 'string', default: 'English' },
    ],
    sample_inputs: { text: '你好，世界', language: 'English' },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'translate', type: 'llm', config: { system_prompt: 'Translate the user text into {{inputs.language}}. Output only the translation.', prompt: '{{inputs.text}}' } },
        {
          id: 'review',
          type: 'llm',
          config: {
            system_prompt: 'You review translations into {{inputs.language}}. Return the corrected translation.',
            prompt: 'Original: {{inputs.text}}\nTranslation: {{translate.text}}',
          },
        },
        { id: 'end', type: 'end', config: { outputs: { translation: '{{translate.text}}', reviewed: '{{review.text}}' } } },
      ],
      edges: [e('start', 'translate'), e('translate', 'review'), e('review', 'end')],
    },
  },
  {
    id: 'data-extraction',
    name: 'Contact data extraction',
    description: 'Extracts name, age and email from free text with a parameter extractor, then checks the age.',
    category: 'extraction',
    inputs_schema: [{ name: 'text', type: 'string', required: true }],
    sample_inputs: { text: 'name: Alice, age: 30, email: alice@example.com' },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'extract',
          type: 'parameter_extractor',
          config: {
            query: '{{inputs.text}}',
            parameters: [
              { name: 'name', type: 'string', required: true, description: 'Full name' },
              { name: 'age', type: 'number', description: 'Age in years' },
              { name: 'email', type: 'string', description: 'Email address' },
            ],
          },
        },
        {
          id: 'adult',
          type: 'condition',
          config: { cases: [{ id: 'adult', logical_operator: 'and', conditions: [{ variable: 'extract.age', operator: 'gte', value: 18 }] }] },
        },
        { id: 'adult_note', type: 'template', config: { template: '{{extract.name}} is an adult' } },
        { id: 'minor_note', type: 'template', config: { template: '{{extract.name}} is a minor or of unknown age' } },
        { id: 'note', type: 'variable_aggregator', config: { variables: ['adult_note.text', 'minor_note.text'] } },
        {
          id: 'end',
          type: 'end',
          config: { outputs: { name: '{{extract.name}}', age: '{{extract.age}}', email: '{{extract.email}}', note: '{{note.output}}' } },
        },
      ],
      edges: [
        e('start', 'extract'),
        e('extract', 'adult'),
        e('adult', 'adult_note', 'adult'),
        e('adult', 'minor_note', 'else'),
        e('adult_note', 'note'),
        e('minor_note', 'note'),
        e('note', 'end'),
      ],
    },
  },
  {
    id: 'approval-flow',
    name: 'Draft and approve',
    description: 'Drafts an announcement, waits for a person to approve or reject it (one day at most), and reports the outcome.',
    category: 'approval',
    inputs_schema: [{ name: 'topic', type: 'string', required: true }],
    sample_inputs: { topic: 'office closed on Friday' },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'draft', type: 'llm', config: { system_prompt: 'Write a short announcement.', prompt: '{{inputs.topic}}' } },
        {
          id: 'approve',
          type: 'human_approval',
          config: { title: 'Publish this announcement?', description: '{{draft.text}}', timeout_seconds: 86400 },
        },
        { id: 'published', type: 'template', config: { template: 'Published: {{draft.text}}' } },
        { id: 'rejected', type: 'template', config: { template: 'Not published ({{approve.comment}})' } },
        { id: 'expired', type: 'template', config: { template: 'Not published: nobody decided in time' } },
        { id: 'result', type: 'variable_aggregator', config: { variables: ['published.text', 'rejected.text', 'expired.text'] } },
        { id: 'end', type: 'end', config: { outputs: { result: '{{result.output}}', decision: '{{approve.decision}}' } } },
      ],
      edges: [
        e('start', 'draft'),
        e('draft', 'approve'),
        e('approve', 'published', 'approved'),
        e('approve', 'rejected', 'rejected'),
        e('approve', 'expired', 'timeout'),
        e('published', 'result'),
        e('rejected', 'result'),
        e('expired', 'result'),
        e('result', 'end'),
      ],
    },
  },
  {
    id: 'parallel-research',
    name: 'Parallel research and merge',
    description: 'Researches a topic from three angles at once, then merges the findings into one brief.',
    category: 'research',
    inputs_schema: [{ name: 'topic', type: 'string', required: true }],
    sample_inputs: { topic: 'edge computing' },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'benefits', type: 'llm', config: { system_prompt: 'List the benefits.', prompt: '{{inputs.topic}}' } },
        { id: 'risks', type: 'llm', config: { system_prompt: 'List the risks.', prompt: '{{inputs.topic}}' } },
        { id: 'examples', type: 'llm', config: { system_prompt: 'Give real-world examples.', prompt: '{{inputs.topic}}' } },
        {
          id: 'merge',
          type: 'template',
          config: { template: '## Benefits\n{{benefits.text}}\n## Risks\n{{risks.text}}\n## Examples\n{{examples.text}}' },
        },
        { id: 'brief', type: 'llm', config: { system_prompt: 'Condense these notes into a brief.', prompt: '{{merge.text}}' } },
        { id: 'end', type: 'end', config: { outputs: { notes: '{{merge.text}}', brief: '{{brief.text}}' } } },
      ],
      edges: [
        e('start', 'benefits'),
        e('start', 'risks'),
        e('start', 'examples'),
        e('benefits', 'merge'),
        e('risks', 'merge'),
        e('examples', 'merge'),
        e('merge', 'brief'),
        e('brief', 'end'),
      ],
    },
  },
  {
    id: 'batch-summarize',
    name: 'Summarise a list',
    description: 'Summarises each item of a list (three at a time) and joins the summaries.',
    category: 'batch',
    inputs_schema: [{ name: 'items', type: 'array', required: true }],
    sample_inputs: { items: ['first report', 'second report', 'third report', 'fourth report'] },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'each',
          type: 'iteration',
          config: {
            items: '{{inputs.items}}',
            concurrency: 3,
            body: {
              nodes: [
                { id: 'start', type: 'start' },
                { id: 'summary', type: 'llm', config: { system_prompt: 'Summarise in one line.', prompt: '{{inputs.item}}' } },
                { id: 'end', type: 'end', config: { outputs: { index: '{{inputs.index}}', summary: '{{summary.text}}' } } },
              ],
              edges: [e('start', 'summary'), e('summary', 'end')],
            },
          },
        },
        { id: 'end', type: 'end', config: { outputs: { summaries: '{{each.results}}', count: '{{each.count}}' } } },
      ],
      edges: [e('start', 'each'), e('each', 'end')],
    },
  },
  {
    id: 'iterative-refinement',
    name: 'Iterative refinement',
    description: 'Improves a draft in a loop until it has been revised the requested number of times (at most five).',
    category: 'content',
    inputs_schema: [
      { name: 'draft', type: 'string', required: true },
      { name: 'rounds', type: 'number', default: 2 },
    ],
    sample_inputs: { draft: 'a rough first draft', rounds: 2 },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'refine',
          type: 'loop',
          config: {
            initial: { text: '{{inputs.draft}}', rounds: 0 },
            max_iterations: 5,
            until: { logical_operator: 'and', conditions: [{ variable: 'state.rounds', operator: 'gte', value: '{{inputs.rounds}}' }] },
            body: {
              nodes: [
                { id: 'start', type: 'start' },
                { id: 'improve', type: 'llm', config: { system_prompt: 'Improve this text.', prompt: '{{inputs.state.text}}' } },
                { id: 'end', type: 'end', config: { outputs: { text: '{{improve.text}}', rounds: '{{inputs.iteration}}' } } },
              ],
              edges: [e('start', 'improve'), e('improve', 'end')],
            },
          },
        },
        { id: 'end', type: 'end', config: { outputs: { text: '{{refine.state.text}}', iterations: '{{refine.iterations}}' } } },
      ],
      edges: [e('start', 'refine'), e('refine', 'end')],
    },
  },
  {
    id: 'resilient-answer',
    name: 'Answer with a fallback',
    description: 'Asks a model with retries and a time limit; if it still fails, answers with a fixed fallback instead of failing.',
    category: 'reliability',
    inputs_schema: [{ name: 'question', type: 'string', required: true }],
    sample_inputs: { question: 'What does this platform do?' },
    graph: {
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'ask',
          type: 'llm',
          config: { prompt: '{{inputs.question}}' },
          timeout_ms: 30_000,
          retry: { max_retries: 2, backoff_ms: 200, backoff: 'exponential' },
          error_strategy: 'default_value',
          default_output: { text: 'Sorry, I cannot answer right now.' },
        },
        { id: 'answer', type: 'answer', config: { answer: '{{ask.text}}' } },
      ],
      edges: [e('start', 'ask'), e('ask', 'answer')],
    },
  },
];

export function findTemplate(id: string): WorkflowTemplate | undefined {
  return workflowTemplates.find((t) => t.id === id);
}
