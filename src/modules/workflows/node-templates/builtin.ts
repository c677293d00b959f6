/** Ready-made node configurations, listed with users' own as `builtin:<name>`. */
export const builtinNodeTemplates = [
  {
    name: 'summarize',
    description: 'Summarise a text in three sentences',
    node_type: 'llm',
    config: { system_prompt: 'Summarise the text in at most three sentences.', prompt: '{{inputs.text}}' },
  },
  {
    name: 'sentiment-router',
    description: 'Route by sentiment: positive, negative, neutral',
    node_type: 'question_classifier',
    config: {
      query: '{{inputs.text}}',
      classes: [
        { id: 'positive', name: 'positive' },
        { id: 'negative', name: 'negative' },
        { id: 'neutral', name: 'neutral' },
      ],
    },
  },
  {
    name: 'http-get-json',
    description: 'GET a JSON API (through the SSRF guard)',
    node_type: 'http_request',
    config: { method: 'GET', url: '{{inputs.url}}', headers: { accept: 'application/json' }, timeout_ms: 10000 },
  },
  {
    name: 'contact-extractor',
    description: 'Extract name, email and phone from text',
    node_type: 'parameter_extractor',
    config: {
      query: '{{inputs.text}}',
      parameters: [
        { name: 'name', type: 'string', required: true },
        { name: 'email', type: 'string' },
        { name: 'phone', type: 'string' },
      ],
    },
  },
  {
    name: 'manager-approval',
    description: 'Ask for approval; times out after one day',
    node_type: 'human_approval',
    config: { title: 'Approval required', description: '{{inputs.request}}', timeout_seconds: 86400 },
  },
  {
    name: 'non-empty-check',
    description: 'Branch on whether a value is present',
    node_type: 'condition',
    config: { cases: [{ id: 'present', logical_operator: 'and', conditions: [{ variable: 'inputs.value', operator: 'is_not_empty' }] }] },
  },
  {
    name: 'wait-a-minute',
    description: 'Pause the run for one minute (costs nothing while waiting)',
    node_type: 'delay',
    config: { duration_ms: 60000 },
  },
] as const;
