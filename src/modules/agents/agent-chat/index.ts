import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

// Static paths first: /bare, /orchestrate and /branches must not be taken for an {agent_id}.
export const agentChatRouter = createRouter()
  .openapi(routes.bare, handlers.bare)
  .openapi(routes.bareStream, handlers.bareStream)
  .openapi(routes.orchestrate, handlers.orchestrate)
  .openapi(routes.orchestrateGraph, handlers.orchestrateGraph)
  .openapi(routes.createBranch, handlers.createBranch)
  .openapi(routes.listBranches, handlers.listBranches)
  .openapi(routes.getBranch, handlers.getBranch)
  .openapi(routes.deleteBranch, handlers.deleteBranch)
  .openapi(routes.resumeBranch, handlers.resumeBranch)
  .openapi(routes.chat, handlers.chat)
  .openapi(routes.chatStream, handlers.chatStream);
