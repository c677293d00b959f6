import { createRouter } from '../../../lib/router';
import { mountMarket } from '../markets/handlers';
import { routes } from './routes';
import { agentMarket } from './service';

/** /agent-market: 15 endpoints (publish, search, detail, update, unpublish, install, uninstall, upgrade, rate, reviews, favourites, installs, categories). */
export const agentMarketRouter = mountMarket(createRouter(), routes, agentMarket, 'agent_id');
