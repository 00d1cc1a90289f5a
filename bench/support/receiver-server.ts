/**
 * Child entry: a webhook receiver of the fan-out benchmark, in its own process so that its
 * work is not charged to the load generator. It answers every POST after `delayMs`, and with
 * `failHalf` every second one with a 500 (which the server retries).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { childArgs, reportStartFailure, serveParent } from './child-runtime.js';

export interface ReceiverArgs {
  delayMs: number;
  failHalf: boolean;
}

const args = childArgs<ReceiverArgs>();
try {
  let received = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received += 1;
      const status = args.failHalf && received % 2 === 0 ? 500 : 200;
      const answer = () => response.writeHead(status, { 'content-length': '0' }).end();
      if (args.delayMs > 0) setTimeout(answer, args.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  serveParent(
    { url: `http://127.0.0.1:${port}/webhooks` },
    {
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    },
  );
} catch (error) {
  reportStartFailure(error);
}
