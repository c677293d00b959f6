export const RUNTIME_CONFIG: string;
export type RuntimeModule = { type: 'ESModule' | 'CompiledWasm'; path: string };
export function buildRuntime(outdir?: string, options?: { env?: string; force?: boolean }): RuntimeModule[];
export function runtimeModules(outdir: string): RuntimeModule[];
