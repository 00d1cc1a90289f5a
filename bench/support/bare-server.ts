/**
 * Child entry: the baseline of DESIGN §5, a bare Fastify route that parses the same JSON body
 * (Fastify's default JSON parser, the same 1 MB limit) and answers 202 with a fresh uuid. No
 * logger, no auth, no validation, no storage: the most an HTTP server on this machine can do.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { childArgs, reportStartFailure, serveParent } from './child-runtime.js';

childArgs<Record<string, never>>();
try {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.post('/v0.1/dispatch', async (request, reply) => {
    if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send({ error: 'body' });
    return reply.code(202).send({ dispatch_uuid: randomUUID() });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  serveParent({ url: `http://127.0.0.1:${port}` }, { close: () => app.close() });
} catch (error) {
  reportStartFailure(error);
}
