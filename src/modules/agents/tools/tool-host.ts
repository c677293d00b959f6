import { setToolHost } from '../../../engine/tools/host';
import { toolHost } from '../../../runs/tool-host';

// Tool invocation (engine) reads custom tools and writes tool_usage and tool_memory through this store.
setToolHost(toolHost);
