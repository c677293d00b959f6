import { createRouter } from '../../../lib/router';
import './tool';
import './nodes';
import * as handlers from './handlers';
import * as routes from './routes';

export const knowledgeBasesRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.create, handlers.create)
  .openapi(routes.get, handlers.get)
  .openapi(routes.update, handlers.update)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.listDocuments, handlers.listDocuments)
  .openapi(routes.addDocument, handlers.addDocument)
  .openapi(routes.deleteDocument, handlers.deleteDocument)
  .openapi(routes.search, handlers.search)
  .openapi(routes.rag, handlers.rag);

export { retrieveFromKnowledgeBase } from './retrieval';
export { handleIngestBatch, handleIngestDeadLetters } from './ingest';
