import { createRouter } from '../../../lib/router';
import * as handlers from './handlers';
import * as routes from './routes';

/** `/api/v1/evals` (extension, docs/evals.md): datasets, eval runs on a queue, scorers, comparisons, deploy gates. */
export const evalsRouter = createRouter()
  .openapi(routes.createDataset, handlers.createDataset)
  .openapi(routes.listDatasets, handlers.listDatasets)
  .openapi(routes.getDataset, handlers.getDataset)
  .openapi(routes.deleteDataset, handlers.deleteDataset)
  .openapi(routes.listRows, handlers.listRows)
  .openapi(routes.addRows, handlers.addRows)
  .openapi(routes.removeRows, handlers.removeRows)
  .openapi(routes.createRun, handlers.createRun)
  .openapi(routes.listRuns, handlers.listRuns)
  .openapi(routes.compareRuns, handlers.compareRuns)
  .openapi(routes.getRun, handlers.getRun)
  .openapi(routes.runEvents, handlers.runEvents)
  .openapi(routes.listResults, handlers.listResults)
  .openapi(routes.cancelRun, handlers.cancelRun)
  .openapi(routes.putGate, handlers.putGate)
  .openapi(routes.getGate, handlers.getGate)
  .openapi(routes.deleteGate, handlers.deleteGate)
  .openapi(routes.putWorkflowGate, handlers.putWorkflowGate)
  .openapi(routes.getWorkflowGate, handlers.getWorkflowGate)
  .openapi(routes.deleteWorkflowGate, handlers.deleteWorkflowGate);
