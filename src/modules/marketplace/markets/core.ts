import type { Env } from '../../../env';
import { isAdmin, type AuthUser } from '../../../lib/auth';
import { runBatch } from '../../../db/client';
import { isUniqueViolation } from '../../../lib/d1';
import { conflict, forbidden, notFound } from '../../../lib/errors';
import { pageBounds, paginated, type Pagination } from '../../../lib/pagination';
import * as store from './store';
import type { InstallView, ListingQuery, ListingRow } from './store';

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

function present(row: ListingRow, user: AuthUser) {
  return {
    id: row.id,
    publisher_id: row.publisherId,
    publisher_name: row.publisherName ?? '',
    source_id: row.publisherId === user.id ? row.sourceId : null,
    name: row.name,
    description: row.description,
    category: row.category,
    tags: JSON.parse(row.tags) as string[],
    version: row.version,
    version_label: row.versionLabel,
    status: row.status,
    install_count: row.installCount,
    rating_avg: Math.round(row.ratingAvg * 100) / 100,
    rating_count: row.ratingCount,
    favorite_count: row.favoriteCount,
    is_favorite: row.isFavorite === 1,
    installed_version: row.installedVersion,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

const recount = (env: Env, listingId: string) => store.recountListing(env.DB, listingId);

export class Market {
  constructor(readonly k: MarketKind) {}

  private async row(env: Env, user: AuthUser, id: string): Promise<ListingRow | null> {
    return store.findListing(env.DB, user.id, this.k.kind, id);
  }

  /** A listing the caller may see: published ones, and their own (or any, for admins) when unpublished. */
  private async visible(env: Env, user: AuthUser, id: string): Promise<ListingRow> {
    const row = await this.row(env, user, id);
    if (!row || (row.status !== 'published' && row.publisherId !== user.id && !isAdmin(user))) throw notFound('Listing');
    return row;
  }

  private async published(env: Env, user: AuthUser, id: string): Promise<ListingRow> {
    const row = await this.visible(env, user, id);
    if (row.status !== 'published') throw notFound('Listing');
    return row;
  }

  private async managed(env: Env, user: AuthUser, id: string): Promise<ListingRow> {
    const row = await this.visible(env, user, id);
    if (row.publisherId !== user.id && !isAdmin(user)) throw forbidden('Only the publisher or an admin may change this listing');
    return row;
  }

  async list(env: Env, user: AuthUser, q: Pagination & ListingQuery) {
    const { limit, offset } = pageBounds(q);
    const { rows, total } = await store.listListings(env.DB, user.id, this.k.kind, q, limit, offset);
    return paginated(rows.map((r) => present(r, user)), total, q);
  }

  async detail(env: Env, user: AuthUser, id: string) {
    const row = await this.visible(env, user, id);
    const results = await store.listVersions(env.DB, id);
    return { ...present(row, user), content: JSON.parse(row.content) as Record<string, unknown>, versions: results };
  }

  async categories(env: Env) {
    const results = await store.countByCategory(env.DB, this.k.kind);
    const counts = new Map(results.map((r) => [r.category, r.n]));
    return { items: this.k.categories.map((c) => ({ id: c.id, name: c.name, count: counts.get(c.id) ?? 0 })) };
  }

  async publish(
    env: Env,
    user: AuthUser,
    body: { sourceId: string; category: string; tags: string[]; name?: string; description?: string; version_label: string; changelog: string },
  ) {
    const snap = await this.k.snapshot(env, user, body.sourceId);
    const existing = await store.findListingOfSource(env.DB, this.k.kind, body.sourceId);
    if (existing?.status === 'published') throw conflict(`This ${this.k.noun} is already published as listing ${existing.id}; update that listing (republish) instead`);
    const content = JSON.stringify(snap.content);
    const name = body.name ?? snap.name;
    const description = body.description ?? snap.description;
    if (existing) {
      // Publishing again after an unpublish: the same listing comes back with a new version.
      await runBatch(env.DB, [
        store.updateListing(
          env.DB,
          existing.id,
          { status: 'published', name, description, category: body.category, tags: JSON.stringify(body.tags), versionLabel: body.version_label, content },
          { bumpVersion: true },
        ),
        this.versionRow(env, existing.id, body.version_label, content, body.changelog),
      ]);
      return this.detail(env, user, existing.id);
    }
    const id = crypto.randomUUID();
    try {
      await runBatch(env.DB, [
        store.insertListing(env.DB, {
          id,
          kind: this.k.kind,
          publisherId: user.id,
          sourceId: body.sourceId,
          name,
          description,
          category: body.category,
          tags: JSON.stringify(body.tags),
          versionLabel: body.version_label,
          content,
        }),
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
    return store.insertVersionOfListing(env.DB, listingId, label, content, changelog);
  }

  async update(
    env: Env,
    user: AuthUser,
    id: string,
    body: { name?: string; description?: string; category?: string; tags?: string[]; republish: boolean; version_label?: string; changelog?: string },
  ) {
    const row = await this.managed(env, user, id);
    const meta = store.updateListing(env.DB, id, {
      name: body.name ?? row.name,
      description: body.description ?? row.description,
      category: body.category ?? row.category,
      tags: JSON.stringify(body.tags ?? JSON.parse(row.tags)),
    });
    if (!body.republish) {
      await meta;
      return this.detail(env, user, id);
    }
    // A new version: snapshot the publisher's resource again (the publisher's, even when an admin asks).
    const publisher = { ...user, id: row.publisherId, role: 'user' as const };
    const snap = await this.k.snapshot(env, publisher, row.sourceId).catch(() => {
      throw conflict(`The published ${this.k.noun} no longer exists; it cannot be republished`);
    });
    const content = JSON.stringify(snap.content);
    const label = body.version_label ?? bumpLabel(row.versionLabel);
    await runBatch(env.DB, [
      meta,
      store.updateListing(env.DB, id, { versionLabel: label, content }, { bumpVersion: true, touch: false }),
      this.versionRow(env, id, label, content, body.changelog ?? ''),
    ]);
    return this.detail(env, user, id);
  }

  /** Unpublishing hides the listing; installers keep their copies (they are theirs). */
  async unpublish(env: Env, user: AuthUser, id: string) {
    await this.managed(env, user, id);
    await store.updateListing(env.DB, id, { status: 'unpublished' });
  }

  private installRow(env: Env, user: AuthUser, listingId: string) {
    return store.findInstall(env.DB, listingId, user.id);
  }

  private async installView(env: Env, user: AuthUser, installId: string) {
    const row = await store.findInstallView(env.DB, installId);
    return presentInstall(row!);
  }

  /**
   * Makes the caller's own copy from the listing's snapshot. One install per user and listing
   * (the unique index decides under races); installing again is 409 while the copy exists.
   */
  async install(env: Env, user: AuthUser, id: string) {
    const listing = await this.published(env, user, id);
    const existing = await this.installRow(env, user, id);
    if (existing && (await this.k.exists(env, user, existing.resourceId))) throw conflict(`Already installed as ${this.k.noun} ${existing.resourceId}`);
    const resourceId = await this.k.install(env, user, JSON.parse(listing.content), listing.name);
    const installId = existing?.id ?? crypto.randomUUID();
    try {
      await runBatch(env.DB, [
        existing
          ? store.updateInstall(env.DB, existing.id, { resourceId, installedVersion: listing.version })
          : store.insertInstall(env.DB, { id: installId, listingId: id, kind: this.k.kind, userId: user.id, resourceId, installedVersion: listing.version }),
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
    if (!keepCopy && (await this.k.exists(env, user, existing.resourceId))) await this.k.remove?.(env, user, existing.resourceId);
    await runBatch(env.DB, [store.deleteInstall(env.DB, existing.id), recount(env, id)]);
  }

  async upgrade(env: Env, user: AuthUser, id: string) {
    const listing = await this.published(env, user, id);
    const existing = await this.installRow(env, user, id);
    if (!existing) throw notFound('Install');
    if (existing.installedVersion >= listing.version) throw conflict(`Already at the latest version (${listing.version})`);
    if (!this.k.upgrade || !(await this.k.exists(env, user, existing.resourceId))) throw conflict(`The installed ${this.k.noun} no longer exists; install the listing again`);
    await this.k.upgrade(env, user, existing.resourceId, JSON.parse(listing.content));
    await store.updateInstall(env.DB, existing.id, { installedVersion: listing.version });
    return this.installView(env, user, existing.id);
  }

  async myInstalls(env: Env, user: AuthUser, q: Pagination) {
    const { limit, offset } = pageBounds(q);
    const { rows, total } = await store.listInstalls(env.DB, user.id, this.k.kind, limit, offset);
    return paginated(rows.map(presentInstall), total, q);
  }

  /** One rating per user (a second one replaces the first); publishers cannot rate their own listing. */
  async rate(env: Env, user: AuthUser, id: string, body: { rating: number; review: string }) {
    const listing = await this.published(env, user, id);
    if (listing.publisherId === user.id) throw forbidden('Publishers cannot rate their own listing');
    await runBatch(env.DB, [store.upsertRating(env.DB, id, user.id, body.rating, body.review), recount(env, id)]);
    return this.detail(env, user, id);
  }

  async reviews(env: Env, user: AuthUser, id: string, q: Pagination) {
    await this.visible(env, user, id);
    const { limit, offset } = pageBounds(q);
    const { rows, total } = await store.listReviews(env.DB, id, limit, offset);
    return paginated(rows, total, q);
  }

  async favorite(env: Env, user: AuthUser, id: string) {
    await this.published(env, user, id);
    await runBatch(env.DB, [store.insertFavorite(env.DB, id, user.id), recount(env, id)]);
    return this.detail(env, user, id);
  }

  async unfavorite(env: Env, user: AuthUser, id: string) {
    await this.visible(env, user, id);
    await runBatch(env.DB, [store.deleteFavorite(env.DB, id, user.id), recount(env, id)]);
  }

  async favorites(env: Env, user: AuthUser, q: Pagination) {
    const { limit, offset } = pageBounds(q);
    const { rows, total } = await store.listFavoriteListings(env.DB, user.id, this.k.kind, limit, offset);
    return paginated(rows.map((r) => present(r, user)), total, q);
  }
}

function presentInstall(r: InstallView) {
  return {
    id: r.id,
    listing_id: r.listingId,
    listing_name: r.listingName,
    resource_id: r.resourceId,
    installed_version: r.installedVersion,
    latest_version: r.latestVersion,
    upgrade_available: r.latestVersion > r.installedVersion,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** 1.2.3 → 1.2.4; anything else gets `.1` appended. */
export function bumpLabel(label: string): string {
  const m = label.match(/^(.*?)(\d+)$/);
  return m ? `${m[1]}${Number(m[2]) + 1}` : `${label}.1`;
}
