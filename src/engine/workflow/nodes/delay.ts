import { z } from 'zod';
import type { NodeType } from '../node';
import { abortableSleep, out } from './helpers';

/** Delays of at least this long suspend a durable run (an alarm wakes it); shorter ones sleep. */
export const DURABLE_DELAY_MS = 5000;
const DelayConfig = z.object({ duration_ms: z.int().min(0).max(7 * 86400_000) });
export const delay: NodeType<z.infer<typeof DelayConfig>> = {
  type: 'delay',
  description: 'Waits; long waits cost nothing (the run sleeps until an alarm).',
  config: DelayConfig,
  ports: out,
  outputs: () => ['waited_ms'],
  async run(ctx, c) {
    const until = ctx.startedMs + c.duration_ms;
    if (!ctx.nested && ctx.services.createApproval && c.duration_ms >= DURABLE_DELAY_MS) {
      return { wait: { kind: 'delay', until } };
    }
    const remaining = until - Date.now();
    if (remaining > 0) await abortableSleep(remaining, ctx.signal);
    return { output: { waited_ms: c.duration_ms } };
  },
  suspends: (c) => c.duration_ms >= DURABLE_DELAY_MS,
  resume(_ctx, c) {
    return { output: { waited_ms: c.duration_ms } };
  },
};
