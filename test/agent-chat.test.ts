import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { parseSse } from '../src/lib/sse';
import { api, createUser, expectError } from './helpers';

describe('smoke', () => {
  it('chats', async () => {
    const u = await createUser();
    const a = await api('/api/v1/agents', { token: u.token, json: { name: 'Echo', system_prompt: 'be nice' } });
    const r = await api(`/api/v1/agent-chat/${a.body.id}`, { token: u.token, json: { message: 'hello' } });
    console.log(r.status, r.text);
    const r2 = await api(`/api/v1/agent-chat/${a.body.id}`, { token: u.token, json: { message: '/history', session_id: r.body.session_id } });
    console.log(r2.status, r2.text);
    const s = await api(`/api/v1/agent-chat/${a.body.id}/stream`, { token: u.token, json: { message: 'stream me please', session_id: r.body.session_id } });
    console.log(s.status, s.text);
  });
});
