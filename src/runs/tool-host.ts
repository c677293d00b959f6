import type { ToolHost } from '../engine/tools/host';
import * as tools from '../modules/agents/tools/store';

/** The tools store as tool invocation's ToolHost (custom tools, usage records, tool memory). */
export const toolHost: ToolHost = {
  loadCustomTool: tools.findCustomTool,
  recordUsage: tools.insertToolUsage,
  memory: {
    put: tools.putToolMemory,
    find: tools.findToolMemory,
    delete: tools.deleteToolMemory,
  },
};
