import type { NodeType } from '../node';
import { nodeTypes, registerNodeType } from './registry';
import { start } from './start';
import { end } from './end';
import { answer } from './answer';
import { llm } from './llm';
import { agent } from './agent';
import { questionClassifier } from './question-classifier';
import { parameterExtractor } from './parameter-extractor';
import { condition } from './condition';
import { httpRequest } from './http-request';
import { code } from './code';
import { tool } from './tool';
import { template } from './template';
import { variableAssigner } from './variable-assigner';
import { variableAggregator } from './variable-aggregator';
import { iteration } from './iteration';
import { loop } from './loop';
import { humanApproval } from './human-approval';
import { humanInput } from './human-input';
import { subWorkflow } from './sub-workflow';
import { delay } from './delay';
import { listOperator } from './list-operator';

// The engine's own node types come first, then those modules registered before this file was first
// imported (in their order); a module's type of the same name as the engine's replaces it in place.
const registered = Object.entries(nodeTypes);
for (const [type] of registered) delete nodeTypes[type];
for (const t of [
  start, end, answer, llm, agent, questionClassifier, parameterExtractor, condition, httpRequest, code, tool, template,
  variableAssigner, variableAggregator, iteration, loop, humanApproval, subWorkflow, delay,
  listOperator, humanInput,
]) {
  nodeTypes[t.type] = t as NodeType;
}
for (const [type, t] of registered) nodeTypes[type] = t;

/** Every node type the engine runs; a module adds its own through registerNodeType. */
export { nodeTypes, registerNodeType };
