import type { AppRouter } from '../../../lib/router';
import type { Market } from './core';
import type { MarketRoutes } from './routes';

type Name = keyof MarketRoutes;

/**
 * Mounts a market's routes (static paths before `/{listing_id}`). `only` picks the endpoints a
 * market has: the template market has no installs list, uninstall or upgrade.
 */
export function mountMarket(router: AppRouter, r: MarketRoutes, market: Market, sourceField: string, only?: Name[]) {
  const has = (n: Name) => !only || only.includes(n);
  if (has('list')) router.openapi(r.list, async (c) => c.json(await market.list(c.env, c.get('user'), c.req.valid('query')), 200));
  if (has('publish'))
    router.openapi(r.publish, async (c) => {
      const body = c.req.valid('json') as Record<string, unknown>;
      const detail = await market.publish(c.env, c.get('user'), {
        sourceId: body[sourceField] as string,
        category: body.category as string,
        tags: body.tags as string[],
        name: body.name as string | undefined,
        description: body.description as string | undefined,
        version_label: body.version_label as string,
        changelog: body.changelog as string,
      });
      return c.json(detail, 201);
    });
  if (has('categories')) router.openapi(r.categories, async (c) => c.json(await market.categories(c.env), 200));
  if (has('favorites')) router.openapi(r.favorites, async (c) => c.json(await market.favorites(c.env, c.get('user'), c.req.valid('query')), 200));
  if (has('installs')) router.openapi(r.installs, async (c) => c.json(await market.myInstalls(c.env, c.get('user'), c.req.valid('query')), 200));
  if (has('detail')) router.openapi(r.detail, async (c) => c.json(await market.detail(c.env, c.get('user'), c.req.valid('param').listing_id), 200));
  if (has('update')) router.openapi(r.update, async (c) => c.json(await market.update(c.env, c.get('user'), c.req.valid('param').listing_id, c.req.valid('json')), 200));
  if (has('unpublish'))
    router.openapi(r.unpublish, async (c) => {
      await market.unpublish(c.env, c.get('user'), c.req.valid('param').listing_id);
      return c.body(null, 204);
    });
  if (has('install')) router.openapi(r.install, async (c) => c.json(await market.install(c.env, c.get('user'), c.req.valid('param').listing_id), 201));
  if (has('uninstall'))
    router.openapi(r.uninstall, async (c) => {
      await market.uninstall(c.env, c.get('user'), c.req.valid('param').listing_id, c.req.valid('query').keep_copy === 'true');
      return c.body(null, 204);
    });
  if (has('upgrade')) router.openapi(r.upgrade, async (c) => c.json(await market.upgrade(c.env, c.get('user'), c.req.valid('param').listing_id), 200));
  if (has('rate')) router.openapi(r.rate, async (c) => c.json(await market.rate(c.env, c.get('user'), c.req.valid('param').listing_id, c.req.valid('json')), 200));
  if (has('reviews')) router.openapi(r.reviews, async (c) => c.json(await market.reviews(c.env, c.get('user'), c.req.valid('param').listing_id, c.req.valid('query')), 200));
  if (has('favorite')) router.openapi(r.favorite, async (c) => c.json(await market.favorite(c.env, c.get('user'), c.req.valid('param').listing_id), 200));
  if (has('unfavorite'))
    router.openapi(r.unfavorite, async (c) => {
      await market.unfavorite(c.env, c.get('user'), c.req.valid('param').listing_id);
      return c.body(null, 204);
    });
  return router;
}
