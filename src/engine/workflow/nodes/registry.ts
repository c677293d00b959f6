import type { NodeType } from '../node';

/**
 * Every node type the engine runs, by type: the engine's own (added by index.ts, first) and those
 * another module provides through registerNodeType (knowledge retrieval, document extractor). A module
 * registers at startup (src/modules/index.ts) without importing the engine's node types, which load
 * with index.ts when something first runs, validates or lists nodes.
 */
export const nodeTypes: Record<string, NodeType> = {};

/** Registers a node type that another module provides (agent, code, knowledge retrieval). */
export function registerNodeType(t: NodeType): void {
  nodeTypes[t.type] = t;
}
