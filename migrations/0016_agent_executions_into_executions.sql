-- Runs of POST /agents/{id}/execute move from agent_executions into executions (trigger 'execute',
-- mode set): inputs {input}, outputs {output, steps} for a succeeded run, and one execution_nodes
-- row per step (node id: the graph node's, else step-N), as the executions module now records them.
INSERT INTO `executions` (id, owner_id, agent_id, trigger, mode, status, inputs, outputs, error, prompt_tokens, completion_tokens, total_tokens,
  started_at, finished_at, duration_ms, created_at, updated_at)
SELECT id, owner_id, agent_id, 'execute', mode, status, json_object('input', input),
  CASE WHEN status = 'succeeded' THEN json_object('output', output, 'steps', json(steps)) END,
  error, prompt_tokens, completion_tokens, total_tokens, started_at, finished_at, duration_ms, created_at, updated_at
FROM `agent_executions` WHERE true
ON CONFLICT (id) DO NOTHING;
--> statement-breakpoint
INSERT INTO `execution_nodes` (execution_id, node_id, node_type, label, status, inputs, outputs, attempts, total_tokens, duration_ms)
SELECT a.id, coalesce(json_extract(s.value, '$.node_id'), 'step-' || (s.key + 1)), 'agent', json_extract(s.value, '$.agent_name'), 'succeeded',
  json_object('agent_id', json_extract(s.value, '$.agent_id'), 'input', json_extract(s.value, '$.input')),
  json_object('reply', json_extract(s.value, '$.output'), 'token_usage', json_extract(s.value, '$.token_usage')),
  1, coalesce(json_extract(s.value, '$.token_usage.total_tokens'), 0), json_extract(s.value, '$.duration_ms')
FROM `agent_executions` a, json_each(a.steps) s WHERE a.status = 'succeeded'
ON CONFLICT (execution_id, node_id) DO NOTHING;
