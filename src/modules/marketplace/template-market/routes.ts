import { marketRoutes } from '../markets/routes';
import { schemas } from './schemas';

export const routes = marketRoutes('template-market', schemas, 'workflow template', 'TemplateMarket');
