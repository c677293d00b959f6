import { runSandboxed } from '../../sandbox';
import { int, obj, str, tool } from '../define';

export const runJavascript = tool<{ code: string; args?: Record<string, unknown>; timeout_ms?: number }>({
  name: 'run_javascript',
  category: 'code',
  description: 'Run JavaScript in an isolated sandbox (QuickJS in WebAssembly; no network, no files, 5 s and 32 MiB by default). The result is `main(args)` if the code defines main, else the value of the last expression; console output is returned as logs.',
  description_zh: '在隔离沙箱(WebAssembly 中的 QuickJS;无网络、无文件,默认 5 秒、32 MiB)中运行 JavaScript。若代码定义了 main 则返回 main(args) 的结果,否则返回最后一个表达式的值;console 输出作为日志返回。',
  parameters: obj({
    code: str('JavaScript source', { minLength: 1, maxLength: 100000 }),
    args: { type: 'object', description: 'Passed to main(args) and available as the global `args`', default: {} },
    timeout_ms: int('Wall-time limit', { minimum: 10, maximum: 10000, default: 5000 }),
  }, ['code']),
  async execute({ code, args = {}, timeout_ms = 5000 }) {
    const run = await runSandboxed({ code, args, timeoutMs: timeout_ms });
    return { result: run.result, logs: run.logs, logs_truncated: run.logs_truncated };
  },
});

export const codeTools = [runJavascript];
