import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { recordResponse } from './openapi-check';

export const BASE = 'http://localhost';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Calls the worker like a client would; `json` bodies are serialised, `token` becomes a Bearer header. */
export async function api<T = any>(
  path: string,
  init: { method?: string; json?: unknown; token?: string; headers?: Record<string, string>; body?: BodyInit } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  let body = init.body;
  if (init.json !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  }
  const request = new Request(BASE + path, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
  const res = await exports.default.fetch(request);
  const text = await res.text();
  recordResponse(request, res, text);
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** Asserts the specification's error format and returns the body. */
export function expectError(res: ApiResponse, status: number, code?: string) {
  expect(res.status, res.text).toBe(status);
  expect(Object.keys(res.body).sort()).toEqual(['error', 'message']);
  expect(typeof res.body.message).toBe('string');
  if (code) expect(res.body.error).toBe(code);
  return res.body as { error: string; message: string };
}

let counter = 0;

/** Registers a fresh user and logs in. */
export async function createUser(prefix = 'user') {
  const email = `${prefix}${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = 'correct horse battery';
  const reg = await api('/api/v1/auth/register', { json: { email, password, nickname: prefix } });
  expect(reg.status, reg.text).toBe(201);
  const login = await api('/api/v1/auth/login', { json: { username: email, password } });
  expect(login.status, login.text).toBe(200);
  return { id: reg.body.id as string, email, password, role: reg.body.role as string, token: login.body.access_token as string };
}

/**
 * A chat conversation of `chatter` with an agent (null: none), inserted as a chat turn writes it:
 * the session, the question and the answer; returns their ids.
 */
export async function seedConversation(chatter: { id: string }, agentId: string | null, question: string, answer: string) {
  const session = crypto.randomUUID();
  const q = crypto.randomUUID();
  const a = crypto.randomUUID();
  await env.DB.batch([
    env.DB.prepare("INSERT INTO chat_sessions (id, user_id, agent_id, kind) VALUES (?, ?, ?, 'chat')").bind(session, chatter.id, agentId),
    env.DB.prepare("INSERT INTO chat_messages (id, session_id, seq, role, content) VALUES (?, ?, 1, 'user', ?)").bind(q, session, question),
    env.DB.prepare("INSERT INTO chat_messages (id, session_id, seq, role, content) VALUES (?, ?, 2, 'assistant', ?)").bind(a, session, answer),
  ]);
  return { session, question: q, answer: a };
}
