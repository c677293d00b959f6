// What an Execution object runs (the workflow engine, the run's D1 side, its trace), imported on the
// object's first use (durable-objects/execution.ts), so the worker's global scope, which exports the
// class in every isolate, does not evaluate it.
export { principalServices } from '../src/runs/principal';
export { cancelRunApprovals, mirrorRun, notifyOnFeishu, recordRunStarted, requestApproval, timeOutApproval } from '../src/runs/workflow-run';
export { GraphRunner } from '../src/engine/workflow/runner';
export { exportRunTrace } from '../src/runs/traces';
