/** Data shapes of the agent loop that actors and modules pass around (no imports: safe anywhere). */

export interface ToolCallRecord {
  id: string;
  name: string;
  arguments: unknown;
  output: unknown;
  error?: string;
  duration_ms: number;
}
