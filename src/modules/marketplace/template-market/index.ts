import { createRouter } from '../../../lib/router';
import { mountMarket } from '../markets/handlers';
import { routes } from './routes';
import { templateMarket } from './service';

/**
 * /template-market: 12 endpoints — the agent market's minus installs list, uninstall and upgrade
 * (an installed template is simply a workflow of yours, with its own version history).
 */
export const templateMarketRouter = mountMarket(createRouter(), routes, templateMarket, 'workflow_id', [
  'list',
  'publish',
  'categories',
  'favorites',
  'detail',
  'update',
  'unpublish',
  'install',
  'rate',
  'reviews',
  'favorite',
  'unfavorite',
]);
