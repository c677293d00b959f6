// Tables of the markets module (its store alone reads and writes them).
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { createdAt, updatedAt } from './columns';

/**
 * Market listings of both markets: `kind` 'agent' (a `tiangong.agent` export) or 'workflow'
 * (a workflow template). `content` is the snapshot of the latest version, taken at publish time
 * through the export path, so it holds no ids of the publisher's resources and no secrets.
 * Counters are denormalised for sorting and recomputed from the unique per-user rows on every
 * change, so they can never drift above one per user.
 */
export const marketListings = sqliteTable(
  'market_listings',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['agent', 'workflow'] }).notNull(),
    publisherId: text('publisher_id').notNull(),
    sourceId: text('source_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    category: text('category').notNull(),
    tags: text('tags').notNull().default('[]'),
    version: integer('version').notNull().default(1),
    versionLabel: text('version_label').notNull().default('1.0.0'),
    content: text('content').notNull(),
    status: text('status', { enum: ['published', 'unpublished'] }).notNull().default('published'),
    installCount: integer('install_count').notNull().default(0),
    ratingCount: integer('rating_count').notNull().default(0),
    ratingAvg: real('rating_avg').notNull().default(0),
    favoriteCount: integer('favorite_count').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('market_listings_kind_idx').on(t.kind, t.status, t.createdAt),
    index('market_listings_publisher_idx').on(t.publisherId),
    // One live listing per published resource.
    uniqueIndex('market_listings_source_unique').on(t.kind, t.sourceId),
  ],
);

/** Every published version of a listing, so installs can name theirs and upgrades can compare. */
export const marketListingVersions = sqliteTable(
  'market_listing_versions',
  {
    id: text('id').primaryKey(),
    listingId: text('listing_id').notNull(),
    version: integer('version').notNull(),
    versionLabel: text('version_label').notNull(),
    content: text('content').notNull(),
    changelog: text('changelog').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('market_listing_versions_unique').on(t.listingId, t.version)],
);

/** One rating per user and listing (changeable): the unique index is what stops inflation. */
export const marketRatings = sqliteTable(
  'market_ratings',
  {
    id: text('id').primaryKey(),
    listingId: text('listing_id').notNull(),
    userId: text('user_id').notNull(),
    rating: integer('rating').notNull(),
    review: text('review').notNull().default(''),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('market_ratings_unique').on(t.listingId, t.userId), index('market_ratings_listing_idx').on(t.listingId, t.updatedAt)],
);

export const marketFavorites = sqliteTable(
  'market_favorites',
  {
    listingId: text('listing_id').notNull(),
    userId: text('user_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('market_favorites_unique').on(t.listingId, t.userId), index('market_favorites_user_idx').on(t.userId, t.createdAt)],
);

/**
 * A user's install of a listing: the copy it created (`resource_id`, the installer's own agent or
 * workflow) and the listing version it holds. One per user and listing, so installing twice
 * neither counts twice nor makes a second copy.
 */
export const marketInstalls = sqliteTable(
  'market_installs',
  {
    id: text('id').primaryKey(),
    listingId: text('listing_id').notNull(),
    kind: text('kind', { enum: ['agent', 'workflow'] }).notNull(),
    userId: text('user_id').notNull(),
    resourceId: text('resource_id').notNull(),
    installedVersion: integer('installed_version').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('market_installs_unique').on(t.listingId, t.userId), index('market_installs_user_idx').on(t.userId, t.kind, t.createdAt)],
);
