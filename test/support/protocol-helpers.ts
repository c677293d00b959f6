import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { api } from './helpers';
import { recordStreamed } from './openapi-check';

/** A fetch that delivers requests straight to the worker under test (for official SDK clients). */
export const workerFetch: typeof fetch = async (input, init) => {
  const request = new Request(input as RequestInfo, init);
  const res = await exports.default.fetch(request);
  recordStreamed(request, res);
  return res;
};

export async function createApiKey(token: string): Promise<string> {
  const res = await api('/api/v1/api-keys', { token, json: { name: 'protocol client' } });
  expect(res.status, res.text).toBe(201);
  return res.body.key as string;
}

/** An agent on the mock model, deployed unless told otherwise. */
export async function createAgent(token: string, extra: Record<string, unknown> = {}, deploy = true) {
  const res = await api('/api/v1/agents', {
    token,
    json: { name: 'Echo bot', description: 'Echoes', system_prompt: 'You echo.', model_config: { provider: 'mock', model_name: 'mock-1' }, ...extra },
  });
  expect(res.status, res.text).toBe(201);
  if (deploy) {
    const d = await api(`/api/v1/agents/${res.body.id}/deploy`, { token, method: 'POST' });
    expect(d.status, d.text).toBe(200);
  }
  return res.body as { id: string; name: string; description: string };
}
