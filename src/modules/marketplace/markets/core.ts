import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { isUniqueViolation, likeContains, NOW_SQL } from '../../../lib/d1';
import { conflict, forbidden, notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';

/**
 * The market engine shared by the agent market and the template market. A market kind says how
 * to snapshot a resource for publishing (through its export path: no secrets, no ids of the
 * publisher's resources) and how to make an installer's own copy from a snapshot.
 */
export interface MarketKind {
  kind: 'agent' | 'workflow';
  noun: string;
  categories: ReadonlyArray<{ id: string; name: string }>;
  /** The caller's own resource as a publishable snapshot; 404 when it is not theirs. */
  snapshot(env: Env, user: AuthUser, sourceId: string): Promise<{ name: string; description: string; content: Record<string, unknown> }>;
  /** Creates the installer's copy from a snapshot; returns its id. */
  install(env: Env, user: AuthUser, content: Record<string, unknown>, listingName: string): Promise<string>;
  /** Brings an installed copy to a newer snapshot (keeping its history); absent: not upgradable. */
  upgrade?(env: Env, user: AuthUser, resourceId: string, content: Record<string, unknown>): Promise<void>;
  /** Removes an installed copy, if it still exists. */
  remove?(env: Env, user: AuthUser, resourceId: string): Promise<void>;
  /** Whether the installed copy still exists. */
  exists(env: Env, user: AuthUser, resourceId: string): Promise<boolean>;
}

interface ListingRow {
  id: string;
  kind: string;
  publisher_id: string;
  publisher_name: string | null;
  source_id: string;
  name: string;
  description: string;
  category: string;
  tags: string;
  version: number;
  version_label: string;
  content: string;
  status: 'published' | 'unpublished';
  install_count: number;
  rating_count: number;
  rating_avg: number;
  favorite_count: number;
  is_favorite: number;
  installed_version: number | null;
  created_at: string;
  updated_at: string;
}


// The caller's favourite and install state come with each row (?1 = the caller).
const SELECT = `SELECT l.*, u.nickname AS publisher_name,
    EXISTS (SELECT 1 FROM market_favorites f WHERE f.listing_id = l.id AND f.user_id = ?1) AS is_favorite,
    (SELECT i.installed_version FROM market_installs i WHERE i.listing_id = l.id AND i.user_id = ?1) AS installed_version
  FROM market_listings l LEFT JOIN users u ON u.id = l.publisher_id`;

function present(row: ListingRow, user: AuthUser) {
  return {
    id: row.id,
    publisher_id: row.publisher_id,
    publisher_name: row.publisher_name ?? '',
    source_id: row.publisher_id === user.id ? row.source_id : null,
    name: row.name,
    description: row.description,
    category: row.category,
    tags: JSON.parse(row.tags) as string[],
    version: row.version,
    version_label: row.version_label,
    status: row.status,
    install_count: row.install_count,
    rating_avg: Math.round(row.rating_avg * 100) / 100,
    rating_count: row.rating_count,
    favorite_count: row.favorite_count,
    is_favorite: row.is_favorite === 1,
    installed_version: row.installed_version,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

// Counters are recomputed from the per-user rows (unique per listing and user) in the same batch
// as every change, so neither repetition nor races can push them past one per user.
const recount = (env: Env, listingId: string) =>
  env.DB.prepare(
    `UPDATE market_listings SET
       install_count = (SELECT count(*) FROM market_installs WHERE listing_id = ?1),
       rating_count = (SELECT count(*) FROM market_ratings WHERE listing_id = ?1),
       rating_avg = coalesce((SELECT avg(rating) FROM market_ratings WHERE listing_id = ?1), 0),
       favorite_count = (SELECT count(*) FROM market_favorites WHERE listing_id = ?1)
     WHERE id = ?1`,
  ).bind(listingId);

export class Market {
  constructor(readonly k: MarketKind) {}

  private async row(env: Env, user: AuthUser, id: string): Promise<ListingRow | null> {
    return env.DB.prepare(`${SELECT} WHERE l.id = ?2 AND l.kind = ?3`).bind(user.id, id, this.k.kind).first<ListingRow>();
  }

  /** A listing the caller may see: published ones, and their own (or any, for admins) when unpublished. */
  private async visible(env: Env, user: AuthUser, id: string): Promise<ListingRow> {
    const row = await this.row(env, user, id);
    if (!row || (row.status !== 'published' && row.publisher_id !== user.id && !isAdmin(user))) throw notFound('Listing');
    return row;
  }

  private async published(env: Env, user: AuthUser, id: string): Promise<ListingRow> {
    const row = await this.visible(env, user, id);
    if (row.status !== 'published') throw notFound('Listing');
    return row;
  }

  private async managed(env: Env, user: AuthUser, id: string): Promise<ListingRow> {
    const row = await this.visible(env, user, id);
    if (row.publisher_id !== user.id && !isAdmin(user)) throw forbidden('Only the publisher or an admin may change this listing');
    return row;
  }

  async list(env: Env, user: AuthUser, q: Pagination & { category?: string; tag?: string; search?: string; sort: 'newest' | 'rating' | 'installs'; mine?: 'true' | 'false' }) {
    const where = ['l.kind = ?2'];
    const binds: unknown[] = [user.id, this.k.kind];
    if (q.mine === 'true') where.push('l.publisher_id = ?1');
    else where.push("l.status = 'published'");
    if (q.category) {
      binds.push(q.category);
      where.push(`l.category = ?${binds.length}`);
    }
    if (q.tag) {
      binds.push(q.tag.toLowerCase());
      where.push(`EXISTS (SELECT 1 FROM json_each(l.tags) WHERE lower(value) = ?${binds.length})`);
    }
    if (q.search) {
      binds.push(likeContains(q.search));
      const n = binds.length;
      where.push(`(l.name LIKE ?${n} ESCAPE '\\' OR l.description LIKE ?${n} ESCAPE '\\' OR l.tags LIKE ?${n} ESCAPE '\\')`);
    }
    const order = { newest: 'l.created_at DESC', rating: 'l.rating_avg DESC, l.rating_count DESC', installs: 'l.install_count DESC' }[q.sort];
    const clause = where.join(' AND ');
    const { limit, offset } = pageBounds(q);
    const [rows, count] = await env.DB.batch<Record<string, unknown>>([
      env.DB.prepare(`${SELECT} WHERE ${clause} ORDER BY ${order}, l.created_at DESC, l.id LIMIT ${limit} OFFSET ${offset}`).bind(...binds),
      // Same numbered parameters: ?1 (the caller) is a slot even where the clause does not use it.
      env.DB.prepare(`SELECT count(*) AS n FROM market_listings l WHERE ${clause}`).bind(...binds),
    ]);
    return paginated((rows.results as unknown as ListingRow[]).map((r) => present(r, user)), (count.results[0] as { n: number }).n, q);
  }

  async detail(env: Env, user: AuthUser, id: string) {
    const row = await this.visible(env, user, id);
    const { results } = await env.DB.prepare('SELECT version, version_label, changelog, created_at FROM market_listing_versions WHERE listing_id = ? ORDER BY version DESC')
      .bind(id)
      .all<{ version: number; version_label: string; changelog: string; created_at: string }>();
    return { ...present(row, user), content: JSON.parse(row.content) as Record<string, unknown>, versions: results };
  }

  async categories(env: Env) {
    const { results } = await env.DB.prepare("SELECT category, count(*) AS n FROM market_listings WHERE kind = ? AND status = 'published' GROUP BY category")
      .bind(this.k.kind)
      .all<{ category: string; n: number }>();
    const counts = new Map(results.map((r) => [r.category, r.n]));
    return { items: this.k.categories.map((c) => ({ id: c.id, name: c.name, count: counts.get(c.id) ?? 0 })) };
  }

  async publish(
    env: Env,
    user: AuthUser,
    body: { sourceId: string; category: string; tags: string[]; name?: string; description?: string; version_label: string; changelog: string },
  ) {
    const snap = await this.k.snapshot(env, user, body.sourceId);
    const existing = await env.DB.prepare('SELECT id, status, publisher_id FROM market_listings WHERE kind = ? AND source_id = ?')
      .bind(this.k.kind, body.sourceId)
      .first<{ id: string; status: string }>();
    if (existing?.status === 'published') throw conflict(`This ${this.k.noun} is already published as listing ${existing.id}; update that listing (republish) instead`);
    const content = JSON.stringify(snap.content);
    const name = body.name ?? snap.name;
    const description = body.description ?? snap.description;
    if (existing) {
      // Publishing again after an unpublish: the same listing comes back with a new version.
      await env.DB.batch([
        env.DB.prepare(
          `UPDATE market_listings SET status = 'published', name = ?, description = ?, category = ?, tags = ?, version = version + 1, version_label = ?, content = ?, updated_at = ${NOW_SQL} WHERE id = ?`,
        ).bind(name, description, body.category, JSON.stringify(body.tags), body.version_label, content, existing.id),
        this.versionRow(env, existing.id, body.version_label, content, body.changelog),
      ]);
      return this.detail(env, user, existing.id);
    }
    const id = crypto.randomUUID();
    try {
      await env.DB.batch([
        env.DB.prepare(
          `INSERT INTO market_listings (id, kind, publisher_id, source_id, name, description, category, tags, version, version_label, content)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
        ).bind(id, this.k.kind, user.id, body.sourceId, name, description, body.category, JSON.stringify(body.tags), body.version_label, content),
        this.versionRow(env, id, body.version_label, content, body.changelog),
      ]);
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`This ${this.k.noun} is already published`);
      throw e;
    }
    return this.detail(env, user, id);
  }

  // The version row copies the listing's (new) version number inside the same batch.
  private versionRow(env: Env, listingId: string, label: string, content: string, changelog: string) {
    return env.DB.prepare(
      `INSERT INTO market_listing_versions (id, listing_id, version, version_label, content, changelog) SELECT ?, id, version, ?, ?, ? FROM market_listings WHERE id = ?`,
    ).bind(crypto.randomUUID(), label, content, changelog, listingId);
  }

  async update(
    env: Env,
    user: AuthUser,
    id: string,
    body: { name?: string; description?: string; category?: string; tags?: string[]; republish: boolean; version_label?: string; changelog?: string },
  ) {
    const row = await this.managed(env, user, id);
    const meta = env.DB.prepare(`UPDATE market_listings SET name = ?, description = ?, category = ?, tags = ?, updated_at = ${NOW_SQL} WHERE id = ?`).bind(
      body.name ?? row.name,
      body.description ?? row.description,
      body.category ?? row.category,
      JSON.stringify(body.tags ?? JSON.parse(row.tags)),
      id,
    );
    if (!body.republish) {
      await meta.run();
      return this.detail(env, user, id);
    }
    // A new version: snapshot the publisher's resource again (the publisher's, even when an admin asks).
    const publisher = { ...user, id: row.publisher_id, role: 'user' as const };
    const snap = await this.k.snapshot(env, publisher, row.source_id).catch(() => {
      throw conflict(`The published ${this.k.noun} no longer exists; it cannot be republished`);
    });
    const content = JSON.stringify(snap.content);
    const label = body.version_label ?? bumpLabel(row.version_label);
    await env.DB.batch([
      meta,
      env.DB.prepare(`UPDATE market_listings SET version = version + 1, version_label = ?, content = ? WHERE id = ?`).bind(label, content, id),
      this.versionRow(env, id, label, content, body.changelog ?? ''),
    ]);
    return this.detail(env, user, id);
  }

  /** Unpublishing hides the listing; installers keep their copies (they are theirs). */
  async unpublish(env: Env, user: AuthUser, id: string) {
    await this.managed(env, user, id);
    await env.DB.prepare(`UPDATE market_listings SET status = 'unpublished', updated_at = ${NOW_SQL} WHERE id = ?`).bind(id).run();
  }

  private installRow(env: Env, user: AuthUser, listingId: string) {
    return env.DB.prepare('SELECT * FROM market_installs WHERE listing_id = ? AND user_id = ?')
      .bind(listingId, user.id)
      .first<{ id: string; resource_id: string; installed_version: number; created_at: string; updated_at: string }>();
  }

  private async installView(env: Env, user: AuthUser, installId: string) {
    const row = await env.DB.prepare(
      `SELECT i.*, l.name AS listing_name, l.version AS latest_version FROM market_installs i JOIN market_listings l ON l.id = i.listing_id WHERE i.id = ?`,
    )
      .bind(installId)
      .first<InstallRow>();
    return presentInstall(row!);
  }

  /**
   * Makes the caller's own copy from the listing's snapshot. One install per user and listing
   * (the unique index decides under races); installing again is 409 while the copy exists.
   */
  async install(env: Env, user: AuthUser, id: string) {
    const listing = await this.published(env, user, id);
    const existing = await this.installRow(env, user, id);
    if (existing && (await this.k.exists(env, user, existing.resource_id))) throw conflict(`Already installed as ${this.k.noun} ${existing.resource_id}`);
    const resourceId = await this.k.install(env, user, JSON.parse(listing.content), listing.name);
    const installId = existing?.id ?? crypto.randomUUID();
    try {
      await env.DB.batch([
        existing
          ? env.DB.prepare(`UPDATE market_installs SET resource_id = ?, installed_version = ?, updated_at = ${NOW_SQL} WHERE id = ?`).bind(resourceId, listing.version, existing.id)
          : env.DB.prepare('INSERT INTO market_installs (id, listing_id, kind, user_id, resource_id, installed_version) VALUES (?, ?, ?, ?, ?, ?)').bind(
              installId,
              id,
              this.k.kind,
              user.id,
              resourceId,
              listing.version,
            ),
        recount(env, id),
      ]);
    } catch (e) {
      // A concurrent install by the same user won; this copy is not needed.
      await this.k.remove?.(env, user, resourceId);
      if (isUniqueViolation(e)) throw conflict('Already installed');
      throw e;
    }
    return this.installView(env, user, installId);
  }

  async uninstall(env: Env, user: AuthUser, id: string, keepCopy: boolean) {
    const existing = await this.installRow(env, user, id);
    if (!existing) throw notFound('Install');
    if (!keepCopy && (await this.k.exists(env, user, existing.resource_id))) await this.k.remove?.(env, user, existing.resource_id);
    await env.DB.batch([env.DB.prepare('DELETE FROM market_installs WHERE id = ?').bind(existing.id), recount(env, id)]);
  }

  async upgrade(env: Env, user: AuthUser, id: string) {
    const listing = await this.published(env, user, id);
    const existing = await this.installRow(env, user, id);
    if (!existing) throw notFound('Install');
    if (existing.installed_version >= listing.version) throw conflict(`Already at the latest version (${listing.version})`);
    if (!this.k.upgrade || !(await this.k.exists(env, user, existing.resource_id))) throw conflict(`The installed ${this.k.noun} no longer exists; install the listing again`);
    await this.k.upgrade(env, user, existing.resource_id, JSON.parse(listing.content));
    await env.DB.prepare(`UPDATE market_installs SET installed_version = ?, updated_at = ${NOW_SQL} WHERE id = ?`).bind(listing.version, existing.id).run();
    return this.installView(env, user, existing.id);
  }

  async myInstalls(env: Env, user: AuthUser, q: Pagination) {
    const { limit, offset } = pageBounds(q);
    const [rows, count] = await env.DB.batch<Record<string, unknown>>([
      env.DB.prepare(
        `SELECT i.*, l.name AS listing_name, l.version AS latest_version FROM market_installs i JOIN market_listings l ON l.id = i.listing_id
         WHERE i.user_id = ? AND i.kind = ? ORDER BY i.created_at DESC, i.id LIMIT ? OFFSET ?`,
      ).bind(user.id, this.k.kind, limit, offset),
      env.DB.prepare('SELECT count(*) AS n FROM market_installs WHERE user_id = ? AND kind = ?').bind(user.id, this.k.kind),
    ]);
    return paginated((rows.results as unknown as InstallRow[]).map(presentInstall), (count.results[0] as { n: number }).n, q);
  }

  /** One rating per user (a second one replaces the first); publishers cannot rate their own listing. */
  async rate(env: Env, user: AuthUser, id: string, body: { rating: number; review: string }) {
    const listing = await this.published(env, user, id);
    if (listing.publisher_id === user.id) throw forbidden('Publishers cannot rate their own listing');
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO market_ratings (id, listing_id, user_id, rating, review) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (listing_id, user_id) DO UPDATE SET rating = excluded.rating, review = excluded.review, updated_at = ${NOW_SQL}`,
      ).bind(crypto.randomUUID(), id, user.id, body.rating, body.review),
      recount(env, id),
    ]);
    return this.detail(env, user, id);
  }

  async reviews(env: Env, user: AuthUser, id: string, q: Pagination) {
    await this.visible(env, user, id);
    const { limit, offset } = pageBounds(q);
    const [rows, count] = await env.DB.batch<Record<string, unknown>>([
      env.DB.prepare(
        `SELECT r.id, r.user_id, coalesce(u.nickname, '') AS user_name, r.rating, r.review, r.created_at, r.updated_at
         FROM market_ratings r LEFT JOIN users u ON u.id = r.user_id WHERE r.listing_id = ? ORDER BY r.updated_at DESC, r.id LIMIT ? OFFSET ?`,
      ).bind(id, limit, offset),
      env.DB.prepare('SELECT count(*) AS n FROM market_ratings WHERE listing_id = ?').bind(id),
    ]);
    return paginated(rows.results as never[], (count.results[0] as { n: number }).n, q);
  }

  async favorite(env: Env, user: AuthUser, id: string) {
    await this.published(env, user, id);
    await env.DB.batch([
      env.DB.prepare('INSERT INTO market_favorites (listing_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING').bind(id, user.id),
      recount(env, id),
    ]);
    return this.detail(env, user, id);
  }

  async unfavorite(env: Env, user: AuthUser, id: string) {
    await this.visible(env, user, id);
    await env.DB.batch([env.DB.prepare('DELETE FROM market_favorites WHERE listing_id = ? AND user_id = ?').bind(id, user.id), recount(env, id)]);
  }

  async favorites(env: Env, user: AuthUser, q: Pagination) {
    const { limit, offset } = pageBounds(q);
    const visible = `l.kind = ?2 AND EXISTS (SELECT 1 FROM market_favorites f WHERE f.listing_id = l.id AND f.user_id = ?1) AND l.status = 'published'`;
    const [rows, count] = await env.DB.batch<Record<string, unknown>>([
      env.DB.prepare(`${SELECT} WHERE ${visible} ORDER BY l.created_at DESC, l.id LIMIT ? OFFSET ?`).bind(user.id, this.k.kind, limit, offset),
      env.DB.prepare(`SELECT count(*) AS n FROM market_listings l WHERE ${visible}`).bind(user.id, this.k.kind),
    ]);
    return paginated((rows.results as unknown as ListingRow[]).map((r) => present(r, user)), (count.results[0] as { n: number }).n, q);
  }
}

interface InstallRow {
  id: string;
  listing_id: string;
  listing_name: string;
  resource_id: string;
  installed_version: number;
  latest_version: number;
  created_at: string;
  updated_at: string;
}

function presentInstall(r: InstallRow) {
  return {
    id: r.id,
    listing_id: r.listing_id,
    listing_name: r.listing_name,
    resource_id: r.resource_id,
    installed_version: r.installed_version,
    latest_version: r.latest_version,
    upgrade_available: r.latest_version > r.installed_version,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** 1.2.3 → 1.2.4; anything else gets `.1` appended. */
export function bumpLabel(label: string): string {
  const m = label.match(/^(.*?)(\d+)$/);
  return m ? `${m[1]}${Number(m[2]) + 1}` : `${label}.1`;
}
