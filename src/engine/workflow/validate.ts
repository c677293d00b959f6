import type { z } from 'zod';
import { NODE_ID } from './graph-schema';
import { nodeTypes } from './nodes';
import { DEFAULT_PORT, ERROR_PORT, type Graph, type InputDef, type NodeDef } from './types';
import { findRefs, refPath, RESERVED_ROOTS, splitPath, SYS_FIELDS } from './variables';

export interface ValidationIssue {
  node_id?: string;
  edge?: { source: string; target: string; source_handle?: string };
  code: string;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  errors: ValidationIssue[];
}

interface Scope {
  /** Input names a reference may use (null: any). */
  inputs: Set<string> | null;
  /** Outer nodes visible from a body (id → output fields or null). */
  outer: Map<string, string[] | null>;
  /** Prefix of node ids in messages (`loop1/`). */
  prefix: string;
  nested: boolean;
}

function zodMessage(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${['config', ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
}

/** Parses a node's config with its type's schema; null when the type is unknown or the config invalid. */
export function parseConfig(node: NodeDef): { ok: true; config: any } | { ok: false; message: string } {
  const cached = parsedConfigs.get(node);
  if (cached && cached.config === node.config && cached.type === node.type) return cached.result;
  const type = nodeTypes[node.type];
  if (!type) return { ok: false, message: `Unknown node type ${node.type}` };
  const parsed = type.config.safeParse(node.config ?? {});
  const result = parsed.success ? ({ ok: true, config: parsed.data } as const) : ({ ok: false, message: zodMessage(parsed.error) } as const);
  parsedConfigs.set(node, { type: node.type, config: node.config, result });
  return result;
}

/**
 * Parsed configurations by node definition: a graph kept for many runs (a saved workflow's,
 * compiled once per isolate) parses each node's config once, not at every run. Keyed by the
 * object and checked against its config and type, so a changed definition parses again.
 */
const parsedConfigs = new WeakMap<NodeDef, { type: string; config: NodeDef['config']; result: ReturnType<typeof parseConfig> }>();

/** The semantic checks of a graph (structure is the zod schema's job). */
export function validateGraph(graph: Graph, inputsSchema: InputDef[] = []): ValidationResult {
  const errors: ValidationIssue[] = [];
  check(graph, { inputs: inputsSchema.length ? new Set(inputsSchema.map((d) => d.name)) : null, outer: new Map(), prefix: '', nested: false }, errors);
  return { valid: errors.length === 0, errors };
}

function check(graph: Graph, scope: Scope, errors: ValidationIssue[]): void {
  const id = (n: string) => scope.prefix + n;
  const nodes = new Map<string, NodeDef>();
  const configs = new Map<string, any>();

  for (const node of graph.nodes) {
    if (nodes.has(node.id)) {
      errors.push({ node_id: id(node.id), code: 'DUPLICATE_NODE_ID', message: `Node id ${node.id} is used twice` });
      continue;
    }
    nodes.set(node.id, node);
    if (!NODE_ID.test(node.id) || RESERVED_ROOTS.has(node.id)) {
      errors.push({ node_id: id(node.id), code: 'INVALID_NODE_ID', message: `Node id ${node.id} must be an identifier other than inputs, sys, vars` });
    }
    if (!nodeTypes[node.type]) {
      errors.push({ node_id: id(node.id), code: 'UNKNOWN_NODE_TYPE', message: `Unknown node type ${node.type}` });
      continue;
    }
    const parsed = parseConfig(node);
    if (!parsed.ok) {
      errors.push({ node_id: id(node.id), code: 'INVALID_CONFIG', message: parsed.message });
      continue;
    }
    configs.set(node.id, parsed.config);
    const ports = nodeTypes[node.type].ports(parsed.config);
    if (new Set(ports).size !== ports.length) {
      errors.push({ node_id: id(node.id), code: 'DUPLICATE_PORT', message: 'Case or class ids must be unique' });
    }
    if (scope.nested && (node.type === 'human_approval' || node.type === 'human_input')) {
      errors.push({ node_id: id(node.id), code: 'INVALID_CONFIG', message: `${node.type} cannot run inside a loop or iteration body` });
    }
  }

  const starts = graph.nodes.filter((n) => n.type === 'start');
  if (starts.length === 0) errors.push({ code: 'NO_START', message: `${scope.prefix ? `Body of ${scope.prefix.slice(0, -1)}` : 'The graph'} has no start node` });
  for (const extra of starts.slice(1)) errors.push({ node_id: id(extra.id), code: 'MULTIPLE_START', message: 'A graph has exactly one start node' });
  const terminals = graph.nodes.filter((n) => nodeTypes[n.type]?.terminal);
  if (terminals.length === 0) errors.push({ code: 'NO_END', message: `${scope.prefix ? `Body of ${scope.prefix.slice(0, -1)}` : 'The graph'} has no end or answer node` });

  // Edges: existing nodes, existing ports, no duplicates.
  const outgoing = new Map<string, string[]>();
  const incoming = new Map<string, string[]>();
  const seen = new Set<string>();
  const errorEdges = new Set<string>();
  for (const e of graph.edges) {
    const edge = { source: e.source, target: e.target, ...(e.source_handle ? { source_handle: e.source_handle } : {}) };
    const src = nodes.get(e.source);
    const dst = nodes.get(e.target);
    if (!src || !dst) {
      errors.push({ edge, code: 'EDGE_UNKNOWN_NODE', message: `Edge ${e.source} → ${e.target} names a node that does not exist (${!src ? e.source : e.target})` });
      continue;
    }
    const key = `${e.source}:${e.source_handle ?? DEFAULT_PORT}->${e.target}`;
    if (seen.has(key)) {
      errors.push({ edge, code: 'DUPLICATE_EDGE', message: `Edge ${e.source} → ${e.target} appears twice` });
      continue;
    }
    seen.add(key);
    if (e.source === e.target) errors.push({ edge, code: 'CYCLE', message: `Edge ${e.source} → ${e.target} loops onto itself` });
    if (dst.type === 'start') errors.push({ edge, code: 'START_HAS_INCOMING', message: 'Nothing may lead into the start node' });
    const config = configs.get(src.id);
    if (config) {
      const port = e.source_handle ?? DEFAULT_PORT;
      const ports = nodeTypes[src.type].ports(config);
      if (src.error_strategy === 'error_branch') ports.push(ERROR_PORT);
      if (!ports.includes(port)) {
        errors.push({
          edge,
          code: 'EDGE_UNKNOWN_PORT',
          message: ports.length ? `Node ${src.id} has no output port ${port} (ports: ${ports.join(', ')})` : `Node ${src.id} (${src.type}) has no outputs`,
        });
      }
      if (port === ERROR_PORT) errorEdges.add(src.id);
    }
    outgoing.set(e.source, [...(outgoing.get(e.source) ?? []), e.target]);
    incoming.set(e.target, [...(incoming.get(e.target) ?? []), e.source]);
  }
  for (const node of graph.nodes) {
    if (node.error_strategy === 'error_branch' && !errorEdges.has(node.id)) {
      errors.push({ node_id: id(node.id), code: 'ERROR_BRANCH_MISSING', message: `error_strategy error_branch needs an edge from port ${ERROR_PORT}` });
    }
  }

  // Cycles (loops and iterations repeat their bodies; the graph itself is acyclic).
  const color = new Map<string, number>();
  const cyclic = new Set<string>();
  const visit = (n: string, stack: string[]) => {
    color.set(n, 1);
    for (const m of outgoing.get(n) ?? []) {
      if (m === n) continue;
      if (color.get(m) === 1) stack.slice(stack.indexOf(m)).forEach((x) => cyclic.add(x));
      else if (!color.get(m)) visit(m, [...stack, m]);
    }
    color.set(n, 2);
  };
  for (const n of nodes.keys()) if (!color.get(n)) visit(n, [n]);
  for (const n of cyclic) errors.push({ node_id: id(n), code: 'CYCLE', message: `Node ${n} is on a cycle; use a loop or iteration node to repeat work` });

  // Reachable from start, and able to reach an end.
  const reach = (from: string[], next: Map<string, string[]>) => {
    const out = new Set<string>(from);
    const queue = [...from];
    while (queue.length) for (const m of next.get(queue.pop()!) ?? []) if (!out.has(m)) (out.add(m), queue.push(m));
    return out;
  };
  if (starts.length) {
    const fromStart = reach([starts[0].id], outgoing);
    for (const n of nodes.keys()) if (!fromStart.has(n)) errors.push({ node_id: id(n), code: 'UNREACHABLE', message: `Node ${n} cannot be reached from the start node` });
  }
  if (terminals.length) {
    const toEnd = reach(terminals.map((t) => t.id), incoming);
    for (const n of nodes.keys()) if (!toEnd.has(n)) errors.push({ node_id: id(n), code: 'NO_PATH_TO_END', message: `No path leads from node ${n} to an end node` });
  }

  // Variable references: resolvable from the inputs, sys, vars, or a node upstream.
  const ancestors = (n: string) => {
    const out = reach([n], incoming);
    out.delete(n);
    return out;
  };
  const fieldsOf = (n: string): string[] | null => {
    const node = nodes.get(n)!;
    const config = configs.get(n);
    if (!config) return null;
    const fields = nodeTypes[node.type].outputs(config);
    // An error branch or default value may produce other fields than the node's own.
    if (fields && node.error_strategy === 'error_branch') fields.push('error');
    if (fields && node.default_output) fields.push(...Object.keys(node.default_output));
    return fields;
  };
  for (const node of graph.nodes) {
    const config = configs.get(node.id);
    if (!config || cyclic.has(node.id)) continue;
    const type = nodeTypes[node.type];
    const up = ancestors(node.id);
    const refs = collectRefs(node, config);
    const bodyRoots = new Set<string>();
    if (node.type === 'loop') bodyRoots.add('state').add('iteration');
    for (const ref of refs) {
      const [root, field] = splitPath(ref);
      const problem = bodyRoots.has(root) ? null : resolvable(root, field, up, scope, fieldsOf);
      if (problem) errors.push({ node_id: id(node.id), code: 'UNRESOLVED_VARIABLE', message: `{{${ref}}}: ${problem}` });
    }
    // Bodies see their own nodes, their inputs and everything upstream of the container.
    for (const body of type.bodies?.(config) ?? []) {
      const outer = new Map(scope.outer);
      for (const a of up) outer.set(a, fieldsOf(a));
      check(body, { inputs: new Set(type.bodyInputs ?? []), outer, prefix: `${id(node.id)}/`, nested: true }, errors);
    }
  }
}

function collectRefs(node: NodeDef, config: any): string[] {
  const type = nodeTypes[node.type];
  const shallow: Record<string, unknown> = { ...(node.config ?? {}) };
  for (const key of ['body']) delete shallow[key];
  const refs = findRefs(shallow);
  if (node.type === 'condition') for (const c of config.cases) for (const cond of c.conditions) refs.push(refPath(cond.variable));
  if (node.type === 'variable_aggregator') for (const v of config.variables) refs.push(refPath(v));
  if (node.type === 'loop' && config.until) for (const cond of config.until.conditions) refs.push(refPath(cond.variable));
  void type;
  return [...new Set(refs)];
}

function resolvable(
  root: string,
  field: string | undefined,
  up: Set<string>,
  scope: Scope,
  fieldsOf: (n: string) => string[] | null,
): string | null {
  if (root === 'inputs') {
    if (!field) return null;
    return scope.inputs && !scope.inputs.has(field) ? `input ${field} is not declared` : null;
  }
  if (root === 'sys') return field && SYS_FIELDS.has(field) ? null : `sys has ${[...SYS_FIELDS].join(', ')}`;
  if (root === 'vars') return null;
  if (up.has(root)) {
    const fields = fieldsOf(root);
    return field && fields && !fields.includes(field) ? `node ${root} has no output ${field} (it has ${fields.join(', ') || 'none'})` : null;
  }
  if (scope.outer.has(root)) {
    const fields = scope.outer.get(root);
    return field && fields && !fields.includes(field) ? `node ${root} has no output ${field}` : null;
  }
  return `node ${root} is not upstream of this node`;
}
