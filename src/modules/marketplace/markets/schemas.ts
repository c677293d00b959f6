import { z } from '@hono/zod-openapi';
import { PaginationQuery } from '../../../lib/pagination';

/** Shared shapes of the agent market and the template market (prefixed per market in OpenAPI). */
export const Tags = z
  .array(z.string().trim().min(1).max(30))
  .max(10)
  .refine((t) => new Set(t.map((x) => x.toLowerCase())).size === t.length, 'tags must not repeat');

const listingFields = {
  name: z.string().trim().min(1).max(100),
  description: z.string().max(4000),
  tags: Tags,
  version_label: z.string().trim().min(1).max(30).meta({ description: 'Shown to installers, e.g. 1.2.0', example: '1.0.0' }),
  changelog: z.string().max(4000),
};

export function marketSchemas(prefix: string, categories: readonly [string, ...string[]], sourceField: string) {
  const Category = z.enum(categories);
  const Listing = z
    .object({
      id: z.uuid(),
      publisher_id: z.string(),
      publisher_name: z.string(),
      source_id: z.string().nullable().meta({ description: `The published ${sourceField.replace('_id', '')} (only shown to its publisher)` }),
      name: z.string(),
      description: z.string(),
      category: z.string(),
      tags: z.array(z.string()),
      version: z.int(),
      version_label: z.string(),
      status: z.enum(['published', 'unpublished']),
      install_count: z.int(),
      rating_avg: z.number(),
      rating_count: z.int(),
      favorite_count: z.int(),
      is_favorite: z.boolean(),
      installed_version: z.int().nullable().meta({ description: 'The version the caller installed, if they did' }),
      created_at: z.string(),
      updated_at: z.string(),
    })
    .openapi(`${prefix}Listing`);
  const ListingDetail = Listing.extend({
    content: z.record(z.string(), z.unknown()).meta({ description: 'The published snapshot (no secrets, no ids of the publisher’s resources)' }),
    versions: z.array(z.object({ version: z.int(), version_label: z.string(), changelog: z.string(), created_at: z.string() })),
  }).openapi(`${prefix}ListingDetail`);
  const Publish = z
    .object({
      [sourceField]: z.uuid(),
      category: Category,
      tags: listingFields.tags.default([]),
      name: listingFields.name.optional().meta({ description: 'Default: the published resource’s name' }),
      description: listingFields.description.optional(),
      version_label: listingFields.version_label.default('1.0.0'),
      changelog: listingFields.changelog.default(''),
    } as Record<string, z.ZodTypeAny>)
    .openapi(`${prefix}PublishRequest`);
  const Update = z
    .object({
      name: listingFields.name.optional(),
      description: listingFields.description.optional(),
      category: Category.optional(),
      tags: listingFields.tags.optional(),
      republish: z.boolean().default(false).meta({ description: 'Snapshot the source again as a new version' }),
      version_label: listingFields.version_label.optional(),
      changelog: listingFields.changelog.optional(),
    })
    .openapi(`${prefix}UpdateRequest`);
  const ListQuery = PaginationQuery.extend({
    category: Category.optional(),
    tag: z.string().trim().max(30).optional(),
    search: z.string().trim().max(200).optional().meta({ description: 'Matches name, description and tags' }),
    sort: z.enum(['newest', 'rating', 'installs']).default('newest'),
    mine: z.enum(['true', 'false']).optional().meta({ description: 'true: only your listings, unpublished ones included' }),
  });
  const Rate = z
    .object({ rating: z.int().min(1).max(5), review: z.string().trim().max(2000).default('') })
    .openapi(`${prefix}RateRequest`);
  const Review = z
    .object({ id: z.string(), user_id: z.string(), user_name: z.string(), rating: z.int(), review: z.string(), created_at: z.string(), updated_at: z.string() })
    .openapi(`${prefix}Review`);
  const Install = z
    .object({
      id: z.uuid(),
      listing_id: z.string(),
      listing_name: z.string(),
      resource_id: z.string().meta({ description: `Your own copy (${sourceField.replace('_id', '')} id)` }),
      installed_version: z.int(),
      latest_version: z.int(),
      upgrade_available: z.boolean(),
      created_at: z.string(),
      updated_at: z.string(),
    })
    .openapi(`${prefix}Install`);
  const Category_ = z.object({ id: z.string(), name: z.string(), count: z.int() }).openapi(`${prefix}Category`);
  return { Category, Listing, ListingDetail, Publish, Update, ListQuery, Rate, Review, Install, CategoryItem: Category_ };
}

export type MarketSchemas = ReturnType<typeof marketSchemas>;
