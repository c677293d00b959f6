// The slice of node:net (nodejs_compat, built on cloudflare:sockets) the SQL drivers are handed.
// The worker's tsconfig does not load @types/node, whose globals clash with workers-types.
declare module 'node:net' {
  interface Socket {
    once(event: 'connect', listener: () => void): this;
    once(event: 'error', listener: (e: Error) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
    removeListener(event: string, listener: (...args: any[]) => void): this;
    destroy(error?: Error): this;
  }
  export function connect(port: number, host: string): Socket;
  const net: { connect: typeof connect };
  export default net;
}
