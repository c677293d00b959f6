import { createRoute, z } from '@hono/zod-openapi';
import { authenticated } from '../../identity/auth/guard';
import { paginatedSchema, PaginationQuery } from '../../../lib/pagination';
import { errors, idParam, jsonBody, jsonContent } from '../../../lib/schemas';
import type { MarketSchemas } from './schemas';

/** The route definitions both markets share; `noun` names what is listed ("agent", "workflow template"). */
export function marketRoutes(tag: string, s: MarketSchemas, noun: string, prefix: string) {
  const tags = [tag];
  const params = idParam('listing_id');
  const detail = (d: string) => jsonContent(s.ListingDetail, d);
  return {
    list: createRoute({
      ...authenticated,
      tags,
      method: 'get',
      path: '/',
      summary: `Published ${noun} listings: search, category, tag; sorted by newest, rating or installs`,
      request: { query: s.ListQuery },
      responses: { 200: jsonContent(paginatedSchema(s.Listing, `${prefix}ListingList`), 'A page of listings'), ...errors(401, 422) },
    }),
    publish: createRoute({
      ...authenticated,
      tags,
      method: 'post',
      path: '/',
      summary: `Publish one of your ${noun}s (a snapshot of its export: no secrets, no ids of your other resources)`,
      request: { body: jsonBody(s.Publish) },
      responses: { 201: detail('The listing'), ...errors(401, 404, 409, 422) },
    }),
    categories: createRoute({
      ...authenticated,
      tags,
      method: 'get',
      path: '/categories',
      summary: 'Categories with the number of published listings in each',
      responses: { 200: jsonContent(z.object({ items: z.array(s.CategoryItem) }), 'Categories'), ...errors(401) },
    }),
    favorites: createRoute({
      ...authenticated,
      tags,
      method: 'get',
      path: '/favorites',
      summary: 'Your favourite listings',
      request: { query: PaginationQuery },
      responses: { 200: jsonContent(paginatedSchema(s.Listing), 'A page of listings'), ...errors(401, 422) },
    }),
    installs: createRoute({
      ...authenticated,
      tags,
      method: 'get',
      path: '/installs',
      summary: 'What you installed, with the version you hold and whether an upgrade is available',
      request: { query: PaginationQuery },
      responses: { 200: jsonContent(paginatedSchema(s.Install, `${prefix}InstallList`), 'A page of installs'), ...errors(401, 422) },
    }),
    detail: createRoute({
      ...authenticated,
      tags,
      method: 'get',
      path: '/{listing_id}',
      summary: 'A listing with its snapshot and version history',
      request: { params },
      responses: { 200: detail('The listing'), ...errors(401, 404) },
    }),
    update: createRoute({
      ...authenticated,
      tags,
      method: 'put',
      path: '/{listing_id}',
      summary: `Update the listing (publisher or admin); \`republish\` snapshots the ${noun} again as a new version`,
      request: { params, body: jsonBody(s.Update) },
      responses: { 200: detail('The listing'), ...errors(401, 403, 404, 409, 422) },
    }),
    unpublish: createRoute({
      ...authenticated,
      tags,
      method: 'delete',
      path: '/{listing_id}',
      summary: 'Unpublish (installers keep their copies)',
      request: { params },
      responses: { 204: { description: 'Unpublished' }, ...errors(401, 403, 404) },
    }),
    install: createRoute({
      ...authenticated,
      tags,
      method: 'post',
      path: '/{listing_id}/install',
      summary: `Install: creates your own ${noun} from the listing's snapshot`,
      request: { params },
      responses: { 201: jsonContent(s.Install, 'The install'), ...errors(401, 404, 409, 422) },
    }),
    uninstall: createRoute({
      ...authenticated,
      tags,
      method: 'delete',
      path: '/{listing_id}/install',
      summary: `Uninstall: deletes your installed ${noun} (keep_copy=true keeps it)`,
      request: { params, query: z.object({ keep_copy: z.enum(['true', 'false']).default('false') }) },
      responses: { 204: { description: 'Uninstalled' }, ...errors(401, 404) },
    }),
    upgrade: createRoute({
      ...authenticated,
      tags,
      method: 'post',
      path: '/{listing_id}/upgrade',
      summary: `Upgrade your installed ${noun} to the listing's latest version (your copy's earlier versions are kept)`,
      request: { params },
      responses: { 200: jsonContent(s.Install, 'The install'), ...errors(401, 404, 409, 422) },
    }),
    rate: createRoute({
      ...authenticated,
      tags,
      method: 'post',
      path: '/{listing_id}/rate',
      summary: 'Rate 1–5 with an optional review; one rating per user, rating again replaces it',
      request: { params, body: jsonBody(s.Rate) },
      responses: { 200: detail('The listing with its new rating'), ...errors(401, 403, 404, 422) },
    }),
    reviews: createRoute({
      ...authenticated,
      tags,
      method: 'get',
      path: '/{listing_id}/reviews',
      summary: 'Ratings and reviews, latest first',
      request: { params, query: PaginationQuery },
      responses: { 200: jsonContent(paginatedSchema(s.Review, `${prefix}ReviewList`), 'A page of reviews'), ...errors(401, 404, 422) },
    }),
    favorite: createRoute({
      ...authenticated,
      tags,
      method: 'post',
      path: '/{listing_id}/favorite',
      summary: 'Add to your favourites (idempotent)',
      request: { params },
      responses: { 200: detail('The listing'), ...errors(401, 404) },
    }),
    unfavorite: createRoute({
      ...authenticated,
      tags,
      method: 'delete',
      path: '/{listing_id}/favorite',
      summary: 'Remove from your favourites',
      request: { params },
      responses: { 204: { description: 'Removed' }, ...errors(401, 404) },
    }),
  };
}

export type MarketRoutes = ReturnType<typeof marketRoutes>;
