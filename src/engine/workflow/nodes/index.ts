import type { NodeType } from '../node';
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

/**
 * Every node type the engine runs. A module adds its own through registerNodeType.
 */
export const nodeTypes: Record<string, NodeType> = Object.fromEntries(
  [
    start, end, answer, llm, agent, questionClassifier, parameterExtractor, condition, httpRequest, code, tool, template,
    variableAssigner, variableAggregator, iteration, loop, humanApproval, subWorkflow, delay,
    listOperator, humanInput,
  ].map((t) => [t.type, t as NodeType]),
);

/** Registers a node type that another module provides (agent, code, knowledge retrieval). */
export function registerNodeType(t: NodeType): void {
  nodeTypes[t.type] = t;
}
