// One local HTTP server for the test suites' fakes of outside services (an OpenAI-compatible
// API, tool endpoints, Feishu's open API, ...). It runs in Node, started by vitest.config.ts;
// the worker reaches it over real HTTP at FAKE_BASE_URL, which the SSRF guard lets through
// via OUTBOUND_ALLOWED_HOSTS (a setting production never has).
//
// Each fake is a handler for one path prefix, in its own file, listed in `fakes` below.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basicFake } from './basic';
import { feishuFake } from './feishu';
import { mcpFake } from './mcp';
import { dataApiFake } from './data-api';
import { openaiFake } from './openai';
import { pluginApiFake } from './plugin-api';
import { s3Fake } from './s3';
import { scriptedFake } from './scripted';
import { toolsFake } from './tools';
import { turnsFake } from './turns';
import { embeddingsFake } from './embeddings';
import { workflowFake } from './workflow';
import { hooksFake } from './hooks';
import { otlpFake } from './otlp';

export type FakeHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer, url: URL) => unknown;

const fakes: Record<string, FakeHandler> = {
  '/basic': basicFake,
  '/feishu': feishuFake,
  '/mcp': mcpFake,
  '/openai': openaiFake,
  '/scripted': scriptedFake,
  '/tools': toolsFake,
  '/turns': turnsFake,
  '/embeddings-api': embeddingsFake,
  '/wf': workflowFake,
  '/s3': s3Fake,
  '/data-api': dataApiFake,
  '/plugin-api': pluginApiFake,
  '/hooks': hooksFake,
  '/otlp': otlpFake,
};

export async function startFakeServer(): Promise<{ baseUrl: string; hostPort: string }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const prefix = Object.keys(fakes).find((p) => url.pathname === p || url.pathname.startsWith(p + '/'));
    try {
      if (!prefix) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no fake here"}');
        return;
      }
      await fakes[prefix](req, res, Buffer.concat(chunks), url);
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, hostPort: `127.0.0.1:${port}` };
}
