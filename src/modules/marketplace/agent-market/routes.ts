import { marketRoutes } from '../markets/routes';
import { schemas } from './schemas';

export const routes = marketRoutes('agent-market', schemas, 'agent', 'AgentMarket');
