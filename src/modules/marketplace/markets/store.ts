import { and, or, asc, count, desc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { db, now, type Statement, likeContains } from '../../../db/client';
import { marketFavorites, marketInstalls, marketListings, marketListingVersions, marketRatings } from '../../../db/schema/markets';
import { nicknameOf } from '../../identity/auth/store';

/** The market_* tables: listings of both markets, their versions, ratings, favourites, installs. */
export type MarketKindName = (typeof marketListings.$inferSelect)['kind'];
export type ListingRecord = typeof marketListings.$inferSelect;
export type MarketInstallRow = typeof marketInstalls.$inferSelect;

/** A listing with its publisher's nickname and the viewer's favourite and install state. */
export type ListingRow = ListingRecord & { publisherName: string | null; isFavorite: number; installedVersion: number | null };

// In a single-table select drizzle writes a field's own column chunks unqualified; subqueries are
// nested one level (sql`${q}`) so that their columns keep their table names.
const qualified = <T>(q: SQL<T>) => sql<T>`${q}`;

const favoriteOf = (userId: string) =>
  sql<number>`EXISTS (SELECT 1 FROM ${marketFavorites} WHERE ${marketFavorites.listingId} = ${marketListings.id} AND ${marketFavorites.userId} = ${userId})`;

const listingFor = (userId: string) => ({
  ...getTableColumns(marketListings),
  publisherName: nicknameOf(marketListings.publisherId),
  isFavorite: qualified(favoriteOf(userId)),
  installedVersion: qualified(
    sql<number | null>`(SELECT ${marketInstalls.installedVersion} FROM ${marketInstalls} WHERE ${marketInstalls.listingId} = ${marketListings.id} AND ${marketInstalls.userId} = ${userId})`,
  ),
});

const selectListings = (d1: D1Database, userId: string) => db(d1).select(listingFor(userId)).from(marketListings);

export async function findListing(d1: D1Database, userId: string, kind: MarketKindName, id: string): Promise<ListingRow | null> {
  const [row] = await selectListings(d1, userId)
    .where(and(eq(marketListings.id, id), eq(marketListings.kind, kind)))
    .limit(1);
  return row ?? null;
}

export interface ListingQuery {
  category?: string;
  tag?: string;
  search?: string;
  sort: 'newest' | 'rating' | 'installs';
  mine?: 'true' | 'false';
}

async function listingPage(d1: D1Database, userId: string, where: SQL | undefined, order: SQL[], limit: number, offset: number) {
  const [rows, [{ total }]] = await db(d1).batch([
    selectListings(d1, userId)
      .where(where)
      .orderBy(...order)
      .limit(limit)
      .offset(offset),
    db(d1).select({ total: count() }).from(marketListings).where(where),
  ]);
  return { rows: rows as ListingRow[], total };
}

/** A page of a market's listings (published ones, or the viewer's own with `mine`) and their count. */
export function listListings(d1: D1Database, userId: string, kind: MarketKindName, q: ListingQuery, limit: number, offset: number) {
  const where: SQL[] = [eq(marketListings.kind, kind), q.mine === 'true' ? eq(marketListings.publisherId, userId) : eq(marketListings.status, 'published')];
  if (q.category) where.push(eq(marketListings.category, q.category));
  if (q.tag) where.push(sql`EXISTS (SELECT 1 FROM json_each(${marketListings.tags}) WHERE lower(value) = ${q.tag.toLowerCase()})`);
  if (q.search) {
    where.push(or(likeContains(marketListings.name, q.search), likeContains(marketListings.description, q.search), likeContains(marketListings.tags, q.search))!);
  }
  const order = {
    newest: [desc(marketListings.createdAt)],
    rating: [desc(marketListings.ratingAvg), desc(marketListings.ratingCount)],
    installs: [desc(marketListings.installCount)],
  }[q.sort];
  return listingPage(d1, userId, and(...where), [...order, desc(marketListings.createdAt), asc(marketListings.id)], limit, offset);
}

/** A page of the viewer's favourite published listings of a market and their count. */
export function listFavoriteListings(d1: D1Database, userId: string, kind: MarketKindName, limit: number, offset: number) {
  const where = and(
    eq(marketListings.kind, kind),
    favoriteOf(userId),
    eq(marketListings.status, 'published'),
  );
  return listingPage(d1, userId, where, [desc(marketListings.createdAt), asc(marketListings.id)], limit, offset);
}

export function listVersions(d1: D1Database, listingId: string) {
  return db(d1)
    .select({
      version: marketListingVersions.version,
      version_label: marketListingVersions.versionLabel,
      changelog: marketListingVersions.changelog,
      created_at: marketListingVersions.createdAt,
    })
    .from(marketListingVersions)
    .where(eq(marketListingVersions.listingId, listingId))
    .orderBy(desc(marketListingVersions.version));
}

/** Published listings per category of a market. */
export function countByCategory(d1: D1Database, kind: MarketKindName): Promise<Array<{ category: string; n: number }>> {
  return db(d1)
    .select({ category: marketListings.category, n: count() })
    .from(marketListings)
    .where(and(eq(marketListings.kind, kind), eq(marketListings.status, 'published')))
    .groupBy(marketListings.category);
}

/** The listing (live or unpublished) of a published resource, if any. */
export async function findListingOfSource(d1: D1Database, kind: MarketKindName, sourceId: string) {
  const [row] = await db(d1)
    .select({ id: marketListings.id, status: marketListings.status, publisherId: marketListings.publisherId })
    .from(marketListings)
    .where(and(eq(marketListings.kind, kind), eq(marketListings.sourceId, sourceId)))
    .limit(1);
  return row ?? null;
}

export const insertListing = (d1: D1Database, l: Pick<ListingRecord, 'id' | 'kind' | 'publisherId' | 'sourceId' | 'name' | 'description' | 'category' | 'tags' | 'versionLabel' | 'content'>) =>
  db(d1)
    .insert(marketListings)
    .values({ ...l, version: 1 });

export const updateListing = (
  d1: D1Database,
  id: string,
  set: Partial<Pick<ListingRecord, 'status' | 'name' | 'description' | 'category' | 'tags' | 'versionLabel' | 'content'>>,
  opts: { bumpVersion?: boolean; touch?: boolean } = {},
) =>
  db(d1)
    .update(marketListings)
    .set({
      ...set,
      ...(opts.bumpVersion ? { version: sql`${marketListings.version} + 1` } : {}),
      ...(opts.touch === false ? {} : { updatedAt: now() }),
    })
    .where(eq(marketListings.id, id));

/** A version row copying the listing's (new) version number, inside the same batch. */
export const insertVersionOfListing = (d1: D1Database, listingId: string, label: string, content: string, changelog: string) =>
  db(d1)
    .insert(marketListingVersions)
    .select(
      db(d1)
        .select({
          id: sql<string>`${crypto.randomUUID()}`.as('id'),
          listingId: marketListings.id,
          version: marketListings.version,
          versionLabel: sql<string>`${label}`.as('version_label'),
          content: sql<string>`${content}`.as('content'),
          changelog: sql<string>`${changelog}`.as('changelog'),
          createdAt: now().as('created_at'),
        })
        .from(marketListings)
        .where(eq(marketListings.id, listingId)),
    );

/**
 * Counters recomputed from the per-user rows (unique per listing and user), in the same batch as
 * every change, so neither repetition nor races can push them past one per user.
 */
export const recountListing = (d1: D1Database, listingId: string) =>
  db(d1)
    .update(marketListings)
    .set({
      installCount: sql`(SELECT count(*) FROM ${marketInstalls} WHERE ${marketInstalls.listingId} = ${listingId})`,
      ratingCount: sql`(SELECT count(*) FROM ${marketRatings} WHERE ${marketRatings.listingId} = ${listingId})`,
      ratingAvg: sql`coalesce((SELECT avg(${marketRatings.rating}) FROM ${marketRatings} WHERE ${marketRatings.listingId} = ${listingId}), 0)`,
      favoriteCount: sql`(SELECT count(*) FROM ${marketFavorites} WHERE ${marketFavorites.listingId} = ${listingId})`,
    })
    .where(eq(marketListings.id, listingId));

// ── installs ──
export async function findInstall(d1: D1Database, listingId: string, userId: string): Promise<MarketInstallRow | null> {
  const [row] = await db(d1)
    .select()
    .from(marketInstalls)
    .where(and(eq(marketInstalls.listingId, listingId), eq(marketInstalls.userId, userId)))
    .limit(1);
  return row ?? null;
}

/** An install with its listing's name and latest version. */
export type InstallView = MarketInstallRow & { listingName: string; latestVersion: number };

const installView = (d1: D1Database) =>
  db(d1)
    .select({ ...getTableColumns(marketInstalls), listingName: marketListings.name, latestVersion: marketListings.version })
    .from(marketInstalls)
    .innerJoin(marketListings, eq(marketListings.id, marketInstalls.listingId));

export async function findInstallView(d1: D1Database, installId: string): Promise<InstallView | null> {
  const [row] = await installView(d1).where(eq(marketInstalls.id, installId)).limit(1);
  return row ?? null;
}

export async function listInstalls(d1: D1Database, userId: string, kind: MarketKindName, limit: number, offset: number) {
  const mine = and(eq(marketInstalls.userId, userId), eq(marketInstalls.kind, kind));
  const [rows, [{ total }]] = await db(d1).batch([
    installView(d1).where(mine).orderBy(desc(marketInstalls.createdAt), asc(marketInstalls.id)).limit(limit).offset(offset),
    db(d1).select({ total: count() }).from(marketInstalls).where(mine),
  ]);
  return { rows, total };
}

export const insertInstall = (d1: D1Database, i: Pick<MarketInstallRow, 'id' | 'listingId' | 'kind' | 'userId' | 'resourceId' | 'installedVersion'>) => db(d1).insert(marketInstalls).values(i);

export const updateInstall = (d1: D1Database, id: string, set: Partial<Pick<MarketInstallRow, 'resourceId' | 'installedVersion'>>) =>
  db(d1)
    .update(marketInstalls)
    .set({ ...set, updatedAt: now() })
    .where(eq(marketInstalls.id, id));

export const deleteInstall = (d1: D1Database, id: string) => db(d1).delete(marketInstalls).where(eq(marketInstalls.id, id));

// ── ratings and favourites ──
/** One rating per user and listing: a second one replaces the first. */
export const upsertRating = (d1: D1Database, listingId: string, userId: string, rating: number, review: string) =>
  db(d1)
    .insert(marketRatings)
    .values({ id: crypto.randomUUID(), listingId, userId, rating, review })
    .onConflictDoUpdate({
      target: [marketRatings.listingId, marketRatings.userId],
      set: { rating: sql`excluded.rating`, review: sql`excluded.review`, updatedAt: now() },
    });

/** A page of a listing's reviews (newest change first) with the reviewers' nicknames, and their count. */
export async function listReviews(d1: D1Database, listingId: string, limit: number, offset: number) {
  const of = eq(marketRatings.listingId, listingId);
  const [rows, [{ total }]] = await db(d1).batch([
    db(d1)
      .select({
        id: marketRatings.id,
        user_id: marketRatings.userId,
        user_name: sql<string>`coalesce(${nicknameOf(marketRatings.userId)}, '')`,
        rating: marketRatings.rating,
        review: marketRatings.review,
        created_at: marketRatings.createdAt,
        updated_at: marketRatings.updatedAt,
      })
      .from(marketRatings)
      .where(of)
      .orderBy(desc(marketRatings.updatedAt), asc(marketRatings.id))
      .limit(limit)
      .offset(offset),
    db(d1).select({ total: count() }).from(marketRatings).where(of),
  ]);
  return { rows, total };
}

export const insertFavorite = (d1: D1Database, listingId: string, userId: string) => db(d1).insert(marketFavorites).values({ listingId, userId }).onConflictDoNothing();

export const deleteFavorite = (d1: D1Database, listingId: string, userId: string) =>
  db(d1)
    .delete(marketFavorites)
    .where(and(eq(marketFavorites.listingId, listingId), eq(marketFavorites.userId, userId)));

export type { Statement };
