import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { Command } from 'commander';
import { hs256Signature, payloadHash } from '../../webhooks/sign.js';
import { UsageError } from '../usage-error.js';

/**
 * A local webhook receiver for trying things out: prints every webhook it gets, one JSON line
 * each, and checks its signature when given the account's signature secret.
 */
export function registerWebhookListen(program: Command): void {
  program
    .command('webhook:listen')
    .description('print the webhooks POSTed to this port (a receiver for trying the APIs)')
    .option('--port <port>', 'port to listen on', '4000')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--signature-secret <secret>', "check each webhook's signature with the account's signature secret")
    .action(async (flags: { port: string; host: string; signatureSecret?: string }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be an integer 0-65535');
      const server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const signature = flags.signatureSecret ? checkSignature(request.headers.authorization, raw, flags.signatureSecret) : undefined;
          let body: unknown = raw;
          try {
            body = JSON.parse(raw);
          } catch {
            // printed as received
          }
          process.stdout.write(`${JSON.stringify({ path: request.url, ...(signature && { signature }), body })}\n`);
          response.writeHead(200).end();
        });
      });
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, flags.host, resolve));
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      process.stderr.write(`Listening for webhooks on http://${flags.host}:${bound}/ (Ctrl-C stops)\n`);
    });
}

/** The HS256 signature recomputed with the server's own signing code, plus the payload_hash of the exact body. */
function checkSignature(authorization: string | undefined, raw: string, secret: string): 'valid' | 'invalid' | 'missing' {
  const token = authorization?.match(/^Bearer (.+)$/)?.[1];
  if (!token) return 'missing';
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return 'invalid';
  const expected = hs256Signature(`${header}.${payload}`, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { payload_hash?: string };
    return claims.payload_hash === payloadHash(raw) ? 'valid' : 'invalid';
  } catch {
    return 'invalid';
  }
}
