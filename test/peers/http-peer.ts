import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the HTTP fakes share: a server on 127.0.0.1, a free port, and a close that ends keep-alive sockets too. */
export interface HttpPeer {
  server: Server;
  baseUrl: string;
  close(): Promise<void>;
}

/** Listens with `handle` for every request; a handler that throws answers 500 with the error. */
export async function listenHttpPeer(handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<HttpPeer> {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets would otherwise hold close() (and the test process) open.
        server.closeAllConnections();
      }),
  };
}

/** A request's whole body. */
export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
