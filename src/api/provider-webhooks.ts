import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ProviderWebhookRequest } from '../channels/channel-adapter.js';
import { notFound } from './problem.js';
import type { Services } from './services.js';

/**
 * `GET|POST /webhooks/{provider}`: callbacks of the providers (delivery receipts, inbound
 * messages, Meta's verification handshake). The provider's adapter verifies and parses them from
 * the exact bytes received; what they report is recorded before the answer, so a provider that
 * got a 2xx never needs to send it again, and one that got an error will.
 */
export async function registerProviderWebhookRoutes(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => {
    // Signatures are computed over the raw body, in whatever content type the provider uses.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    scope.route<{ Params: { provider: string } }>({
      method: ['GET', 'POST'],
      url: '/webhooks/:provider',
      handler: async (request, reply) => {
        const adapter = services.providers.byName(request.params.provider);
        // The name is not repeated: the route is open to anyone.
        if (!adapter?.webhook) throw notFound('No provider of that name takes callbacks here');
        const answer = await adapter.webhook(webhookRequest(request));
        if (answer.events.length > 0) await services.useCases.recordProviderEvents(adapter.provider, answer.events);
        reply.code(answer.status);
        if (answer.contentType) reply.type(answer.contentType);
        return reply.send(answer.body ?? '');
      },
    });
  });
}

function webhookRequest(request: FastifyRequest): ProviderWebhookRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'string') query[name] = value;
  }
  const at = request.url.indexOf('?');
  const search = at === -1 ? '' : request.url.slice(at);
  return { method: request.method, search, headers, query, rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0) };
}
