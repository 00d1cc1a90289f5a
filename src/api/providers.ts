/**
 * `GET /v0.1/providers` (DESIGN §4; Basic auth): each provider instance of this node with the
 * channels it serves and its circuit, so an operator sees a failing provider being passed over.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from './authenticate.js';
import type { Services } from './services.js';

export function registerProviderRoutes(app: FastifyInstance, services: Services, auth: Authenticator): void {
  app.get('/v0.1/providers', { onRequest: (request: FastifyRequest) => auth.basicOnly(request) }, async () => {
    const now = services.clock.now();
    return {
      providers: services.providers.all().map((adapter) => {
        const { state, failureRate, sent, failed } = services.providers.circuit(adapter.provider).stats(now);
        return { name: adapter.provider, type: adapter.type, channels: services.providers.channelsOf(adapter.provider), circuit: state, failure_rate: Math.round(failureRate * 1000) / 1000, sent, failed };
      }),
    };
  });
}
