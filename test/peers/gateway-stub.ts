import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the gateway's webhook endpoint, for the fakes' own tests: records every request
 * and answers `status` (and `body`); with a verify token it also answers Meta's GET handshake.
 */
export interface StubRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  /** The body as text. */
  raw: string;
  /** The exact bytes, for signatures. */
  bytes: Buffer;
}

export interface GatewayStub {
  base: string;
  received: StubRequest[];
  /** The HTTP status the next requests are answered with. */
  status: number;
  close(): Promise<void>;
}

export async function startGatewayStub(options: { verifyToken?: string; body?: string; contentType?: string } = {}): Promise<GatewayStub> {
  const gateway: GatewayStub = { base: '', received: [], status: 200, close: () => Promise.resolve() };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', gateway.base);
      if (options.verifyToken !== undefined && request.method === 'GET') {
        const ok = url.searchParams.get('hub.mode') === 'subscribe' && url.searchParams.get('hub.verify_token') === options.verifyToken;
        response.writeHead(ok ? 200 : 403).end(ok ? (url.searchParams.get('hub.challenge') ?? '') : '');
        return;
      }
      const bytes = Buffer.concat(chunks);
      gateway.received.push({ method: request.method ?? '', url, headers: request.headers, raw: bytes.toString('utf8'), bytes });
      response.writeHead(gateway.status, options.contentType ? { 'content-type': options.contentType } : {}).end(options.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gateway.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gateway.close = () =>
    new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  return gateway;
}
