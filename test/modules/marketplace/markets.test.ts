import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createUser, expectError } from '../../support/helpers';

type User = Awaited<ReturnType<typeof createUser>>;
let pub: User;
let alice: User;
let bob: User;

beforeAll(async () => {
  pub = await createUser('publisher');
  alice = await createUser('alice');
  bob = await createUser('bob');
});

const SECRET_KEY = 'sk-publisher-secret-abcdef987654';

async function publisherAgent(name = 'Support bot') {
  const cfg = await api('/api/v1/model-configs', {
    token: pub.token,
    json: { name: 'mine', provider: 'openai', model_name: 'gpt-fake', base_url: `${env.FAKE_BASE_URL}/openai/v1`, api_key: SECRET_KEY },
  });
  expect(cfg.status, cfg.text).toBe(201);
  const agent = await api('/api/v1/agents', {
    token: pub.token,
    json: { name, description: 'Answers support questions', system_prompt: 'Be kind.', model_config: { model_config_id: cfg.body.id, temperature: 0.3 } },
  });
  expect(agent.status, agent.text).toBe(201);
  return { agent: agent.body, configId: cfg.body.id as string };
}

async function publish(agentId: string, extra: Record<string, unknown> = {}) {
  const res = await api('/api/v1/agent-market', { token: pub.token, json: { agent_id: agentId, category: 'customer-service', tags: ['support', 'faq'], ...extra } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const M = '/api/v1/agent-market';

describe('agent market: publishing', () => {
  it('publishes a snapshot of the export without secrets or the publisher’s resource ids', async () => {
    const { agent, configId } = await publisherAgent();
    const listing = await publish(agent.id, { version_label: '1.0.0', changelog: 'first' });
    expect(listing).toMatchObject({ name: 'Support bot', category: 'customer-service', tags: ['support', 'faq'], version: 1, version_label: '1.0.0', status: 'published', source_id: agent.id, install_count: 0 });
    expect(listing.content).toMatchObject({ format: 'tiangong.agent', agent: { name: 'Support bot', system_prompt: 'Be kind.', model_config: { provider: 'openai', model_name: 'gpt-fake', temperature: 0.3 } } });
    expect(listing.versions).toEqual([expect.objectContaining({ version: 1, version_label: '1.0.0', changelog: 'first' })]);
    const stored = await env.DB.prepare('SELECT content FROM market_listings WHERE id = ?').bind(listing.id).first<{ content: string }>();
    for (const text of [stored!.content, JSON.stringify(listing)]) {
      expect(text).not.toContain(SECRET_KEY);
      expect(text).not.toContain(configId);
    }
    // Others do not see the source id.
    expect((await api(`${M}/${listing.id}`, { token: alice.token })).body.source_id).toBeNull();
    expectError(await api(M, { token: pub.token, json: { agent_id: agent.id, category: 'writing' } }), 409, 'CONFLICT');
  });

  it('validates (422), needs auth (401), and only publishes your own agents (404)', async () => {
    const { agent } = await publisherAgent('Other');
    expectError(await api(M, { token: pub.token, json: { agent_id: agent.id, category: 'nope' } }), 422);
    expectError(await api(M, { token: pub.token, json: { agent_id: 'x', category: 'writing' } }), 422);
    expectError(await api(M, { token: pub.token, json: { agent_id: agent.id, category: 'writing', tags: ['a', 'A'] } }), 422);
    expectError(await api(M, { json: { agent_id: agent.id, category: 'writing' } }), 401);
    expectError(await api(M, { token: alice.token, json: { agent_id: agent.id, category: 'writing' } }), 404, 'NOT_FOUND');
    expectError(await api(M, { token: pub.token, json: { agent_id: crypto.randomUUID(), category: 'writing' } }), 404);
  });

  it('lists with search, category, tag and sort; categories count published listings', async () => {
    const { agent } = await publisherAgent('Poet 诗人');
    const listing = await publish(agent.id, { category: 'writing', tags: ['poetry'], description: 'writes verses' });
    const byTag = await api(`${M}?tag=POETRY`, { token: alice.token });
    expect(byTag.status).toBe(200);
    expect(byTag.body.items.map((l: any) => l.id)).toEqual([listing.id]);
    expect((await api(`${M}?search=${encodeURIComponent('诗人')}`, { token: alice.token })).body.items.map((l: any) => l.id)).toEqual([listing.id]);
    expect((await api(`${M}?category=writing&sort=rating`, { token: alice.token })).body.items.map((l: any) => l.id)).toContain(listing.id);
    expect((await api(`${M}?category=coding`, { token: alice.token })).body.items).toHaveLength(0);
    expectError(await api(`${M}?sort=random`, { token: alice.token }), 422);
    expectError(await api(M), 401);
    const cats = await api(`${M}/categories`, { token: alice.token });
    expect(cats.status).toBe(200);
    expect(cats.body.items.find((c: any) => c.id === 'writing').count).toBeGreaterThanOrEqual(1);
    expectError(await api(`${M}/categories`), 401);
  });

  it('updates the listing (publisher only) and republishes new versions', async () => {
    const { agent } = await publisherAgent('Versioned');
    const listing = await publish(agent.id, { category: 'research' });
    const upd = await api(`${M}/${listing.id}`, { token: pub.token, method: 'PUT', json: { description: 'better', tags: ['x'] } });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body).toMatchObject({ description: 'better', tags: ['x'], version: 1 });
    await api(`/api/v1/agents/${agent.id}`, { token: pub.token, method: 'PUT', json: { system_prompt: 'Be very kind.' } });
    const re = await api(`${M}/${listing.id}`, { token: pub.token, method: 'PUT', json: { republish: true, changelog: 'kinder' } });
    expect(re.body).toMatchObject({ version: 2, version_label: '1.0.1' });
    expect(re.body.content.agent.system_prompt).toBe('Be very kind.');
    expect(re.body.versions.map((v: any) => v.version)).toEqual([2, 1]);
    expectError(await api(`${M}/${listing.id}`, { token: alice.token, method: 'PUT', json: { name: 'mine now' } }), 403, 'FORBIDDEN');
    expectError(await api(`${M}/${listing.id}`, { token: pub.token, method: 'PUT', json: { category: 'nope' } }), 422);
    expectError(await api(`${M}/${crypto.randomUUID()}`, { token: pub.token, method: 'PUT', json: { name: 'x' } }), 404);
    expectError(await api(`${M}/${listing.id}`, { method: 'PUT', json: { name: 'x' } }), 401);
  });

  it('unpublishes: hidden from others, installers keep their copies, publishing again brings it back', async () => {
    const { agent } = await publisherAgent('Ephemeral');
    const listing = await publish(agent.id);
    const inst = await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'POST' });
    expect(inst.status).toBe(201);
    expectError(await api(`${M}/${listing.id}`, { token: alice.token, method: 'DELETE' }), 403);
    expect((await api(`${M}/${listing.id}`, { token: pub.token, method: 'DELETE' })).status).toBe(204);
    expectError(await api(`${M}/${listing.id}`, { token: bob.token }), 404);
    expect((await api(`${M}/${listing.id}`, { token: pub.token })).body.status).toBe('unpublished');
    expect((await api(M, { token: bob.token })).body.items.map((l: any) => l.id)).not.toContain(listing.id);
    expect((await api(`${M}?mine=true`, { token: pub.token })).body.items.map((l: any) => l.id)).toContain(listing.id);
    expect((await api(`/api/v1/agents/${inst.body.resource_id}`, { token: alice.token })).status).toBe(200);
    expectError(await api(`${M}/${listing.id}/install`, { token: bob.token, method: 'POST' }), 404);
    const again = await publish(agent.id);
    expect(again).toMatchObject({ id: listing.id, status: 'published', version: 2 });
    expectError(await api(`${M}/${crypto.randomUUID()}`, { token: pub.token, method: 'DELETE' }), 404);
    expectError(await api(`${M}/${listing.id}`, { method: 'DELETE' }), 401);
  });
});

describe('agent market: installing', () => {
  it('installs the installer’s own agent with no access to the publisher’s resources; counts once per user', async () => {
    const { agent, configId } = await publisherAgent('Installable');
    const listing = await publish(agent.id);
    const inst = await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'POST' });
    expect(inst.status, inst.text).toBe(201);
    expect(inst.body).toMatchObject({ listing_id: listing.id, installed_version: 1, latest_version: 1, upgrade_available: false });
    const copy = await api(`/api/v1/agents/${inst.body.resource_id}`, { token: alice.token });
    expect(copy.body).toMatchObject({ owner_id: alice.id, name: 'Installable', system_prompt: 'Be kind.' });
    expect(copy.body.model_config.model_config_id).toBeUndefined();
    expect(copy.text).not.toContain(configId);
    // The publisher's agent and model config stay the publisher's.
    expectError(await api(`/api/v1/agents/${agent.id}`, { token: alice.token }), 404);
    expectError(await api(`/api/v1/model-configs/${configId}`, { token: alice.token }), 404);

    expectError(await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'POST' }), 409, 'CONFLICT');
    await api(`${M}/${listing.id}/install`, { token: bob.token, method: 'POST' });
    const detail = await api(`${M}/${listing.id}`, { token: alice.token });
    expect(detail.body).toMatchObject({ install_count: 2, installed_version: 1 });
    const installs = await env.DB.prepare('SELECT count(*) AS n FROM market_installs WHERE listing_id = ?').bind(listing.id).first<{ n: number }>();
    expect(installs!.n).toBe(2);

    const mine = await api(`${M}/installs`, { token: alice.token });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((i: any) => i.listing_id)).toContain(listing.id);
    expectError(await api(`${M}/installs`), 401);
    expectError(await api(`${M}/${crypto.randomUUID()}/install`, { token: alice.token, method: 'POST' }), 404);
    expectError(await api(`${M}/${listing.id}/install`, { method: 'POST' }), 401);
  });

  it('uninstalls (deleting the copy unless kept) and lets the user install again', async () => {
    const { agent } = await publisherAgent('Removable');
    const listing = await publish(agent.id);
    const first = (await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'POST' })).body;
    expect((await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'DELETE' })).status).toBe(204);
    expectError(await api(`/api/v1/agents/${first.resource_id}`, { token: alice.token }), 404);
    expect((await api(`${M}/${listing.id}`, { token: alice.token })).body).toMatchObject({ install_count: 0, installed_version: null });
    expectError(await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'DELETE' }), 404);
    const second = (await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'POST' })).body;
    expect((await api(`${M}/${listing.id}/install?keep_copy=true`, { token: alice.token, method: 'DELETE' })).status).toBe(204);
    expect((await api(`/api/v1/agents/${second.resource_id}`, { token: alice.token })).status).toBe(200);
    expectError(await api(`${M}/${listing.id}/install?keep_copy=maybe`, { token: alice.token, method: 'DELETE' }), 422);
    expectError(await api(`${M}/${listing.id}/install`, { method: 'DELETE' }), 401);
    // A copy the user deleted themselves can be installed again.
    const third = (await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'POST' })).body;
    await api(`/api/v1/agents/${third.resource_id}`, { token: alice.token, method: 'DELETE' });
    const fourth = await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'POST' });
    expect(fourth.status).toBe(201);
    expect(fourth.body.id).toBe(third.id);
    expect(fourth.body.resource_id).not.toBe(third.resource_id);
  });

  it('upgrades an installed agent to the latest version, keeping the copy’s history', async () => {
    const { agent } = await publisherAgent('Upgradable');
    const listing = await publish(agent.id);
    const inst = (await api(`${M}/${listing.id}/install`, { token: alice.token, method: 'POST' })).body;
    expectError(await api(`${M}/${listing.id}/upgrade`, { token: alice.token, method: 'POST' }), 409);
    await api(`/api/v1/agents/${agent.id}`, { token: pub.token, method: 'PUT', json: { system_prompt: 'Version two.' } });
    await api(`${M}/${listing.id}`, { token: pub.token, method: 'PUT', json: { republish: true, version_label: '2.0.0' } });
    const mine = await api(`${M}/installs`, { token: alice.token });
    expect(mine.body.items.find((i: any) => i.id === inst.id)).toMatchObject({ installed_version: 1, latest_version: 2, upgrade_available: true });
    const up = await api(`${M}/${listing.id}/upgrade`, { token: alice.token, method: 'POST' });
    expect(up.status, up.text).toBe(200);
    expect(up.body).toMatchObject({ installed_version: 2, upgrade_available: false, resource_id: inst.resource_id });
    const copy = (await api(`/api/v1/agents/${inst.resource_id}`, { token: alice.token })).body;
    expect(copy).toMatchObject({ system_prompt: 'Version two.', version: 2 });
    const versions = await env.DB.prepare('SELECT version FROM agent_versions WHERE agent_id = ? ORDER BY version').bind(inst.resource_id).all<{ version: number }>();
    expect(versions.results.map((v) => v.version)).toEqual([1, 2]);
    expectError(await api(`${M}/${listing.id}/upgrade`, { token: bob.token, method: 'POST' }), 404);
    expectError(await api(`${M}/${crypto.randomUUID()}/upgrade`, { token: alice.token, method: 'POST' }), 404);
    expectError(await api(`${M}/${listing.id}/upgrade`, { method: 'POST' }), 401);
  });
});

describe('agent market: ratings and favourites', () => {
  it('one rating per user (changeable), no self-rating; reviews list', async () => {
    const { agent } = await publisherAgent('Rated');
    const listing = await publish(agent.id);
    const r1 = await api(`${M}/${listing.id}/rate`, { token: alice.token, json: { rating: 5, review: 'great' } });
    expect(r1.status, r1.text).toBe(200);
    await api(`${M}/${listing.id}/rate`, { token: alice.token, json: { rating: 5 } });
    await api(`${M}/${listing.id}/rate`, { token: alice.token, json: { rating: 4, review: 'good' } });
    const r2 = await api(`${M}/${listing.id}/rate`, { token: bob.token, json: { rating: 1 } });
    expect(r2.body).toMatchObject({ rating_count: 2, rating_avg: 2.5 });
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM market_ratings WHERE listing_id = ?').bind(listing.id).first<{ n: number }>();
    expect(rows!.n).toBe(2);
    expectError(await api(`${M}/${listing.id}/rate`, { token: pub.token, json: { rating: 5 } }), 403);
    expectError(await api(`${M}/${listing.id}/rate`, { token: alice.token, json: { rating: 6 } }), 422);
    expectError(await api(`${M}/${listing.id}/rate`, { json: { rating: 3 } }), 401);
    expectError(await api(`${M}/${crypto.randomUUID()}/rate`, { token: alice.token, json: { rating: 3 } }), 404);
    const reviews = await api(`${M}/${listing.id}/reviews`, { token: bob.token });
    expect(reviews.status).toBe(200);
    expect(reviews.body.total).toBe(2);
    expect(reviews.body.items.find((r: any) => r.user_id === alice.id)).toMatchObject({ rating: 4, review: 'good', user_name: 'alice' });
    expectError(await api(`${M}/${listing.id}/reviews?page_size=0`, { token: bob.token }), 422);
    expectError(await api(`${M}/${crypto.randomUUID()}/reviews`, { token: bob.token }), 404);
    expectError(await api(`${M}/${listing.id}/reviews`), 401);
    const sorted = await api(`${M}?sort=rating&search=Rated`, { token: bob.token });
    expect(sorted.body.items[0].id).toBe(listing.id);
  });

  it('favourites are idempotent and listed per user', async () => {
    const { agent } = await publisherAgent('Loved');
    const listing = await publish(agent.id);
    for (let i = 0; i < 3; i++) expect((await api(`${M}/${listing.id}/favorite`, { token: alice.token, method: 'POST' })).status).toBe(200);
    const d = await api(`${M}/${listing.id}`, { token: alice.token });
    expect(d.body).toMatchObject({ favorite_count: 1, is_favorite: true });
    expect((await api(`${M}/${listing.id}`, { token: bob.token })).body.is_favorite).toBe(false);
    const favs = await api(`${M}/favorites`, { token: alice.token });
    expect(favs.body.items.map((l: any) => l.id)).toEqual([listing.id]);
    expect((await api(`${M}/favorites`, { token: bob.token })).body.items).toEqual([]);
    expect((await api(`${M}/${listing.id}/favorite`, { token: alice.token, method: 'DELETE' })).status).toBe(204);
    expect((await api(`${M}/${listing.id}`, { token: alice.token })).body).toMatchObject({ favorite_count: 0, is_favorite: false });
    expectError(await api(`${M}/${crypto.randomUUID()}/favorite`, { token: alice.token, method: 'POST' }), 404);
    expectError(await api(`${M}/${crypto.randomUUID()}/favorite`, { token: alice.token, method: 'DELETE' }), 404);
    expectError(await api(`${M}/${listing.id}/favorite`, { method: 'POST' }), 401);
    expectError(await api(`${M}/favorites`), 401);
    expectError(await api(`${M}/favorites?page=0`, { token: alice.token }), 422);
  });

  it('detail: 404 for unknown, 401 without a token', async () => {
    expectError(await api(`${M}/${crypto.randomUUID()}`, { token: alice.token }), 404, 'NOT_FOUND');
    expectError(await api(`${M}/${crypto.randomUUID()}`), 401);
  });
});

describe('OpenAPI', () => {
  it('documents every ecosystem endpoint under its module tag', async () => {
    const doc = (await api('/openapi.json')).body;
    const perTag: Record<string, number> = {};
    for (const ops of Object.values<Record<string, { tags?: string[]; security?: unknown[] }>>(doc.paths)) {
      for (const op of Object.values(ops)) for (const tag of op.tags ?? []) perTag[tag] = (perTag[tag] ?? 0) + 1;
    }
    expect(perTag).toMatchObject({ 'agent-market': 15, 'template-market': 12, plugins: 10, 'orchestration-templates': 5, platform: 4, 'data-sources': 7 });
    const ecosystem = Object.entries<Record<string, { tags?: string[]; security?: unknown[] }>>(doc.paths).filter(([p]) =>
      /^\/api\/v1\/(agent-market|template-market|plugins|orchestration-templates|platform|data-sources)/.test(p),
    );
    for (const [path, ops] of ecosystem) for (const [method, op] of Object.entries(ops)) expect(op.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
  });
});
