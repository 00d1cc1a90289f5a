/**
 * Links (DESIGN §4, an extension of Applications v2; Basic auth): which application a business
 * address's inbound messages go to.
 *   PUT    /v2/applications/{id}/links/{channel}/{address}   204
 *   DELETE /v2/applications/{id}/links/{channel}/{address}   204
 *   GET    /v2/applications/{id}/links                       {"links": [{channel, address, application_id}]}
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { linkTarget } from '../core/link-address.js';
import type { LinkRecord } from '../core/records.js';
import { APPLICATIONS_PATH } from './application-payload.js';
import type { Authenticator } from './authenticate.js';
import { notFound, problem, unknownId } from './problem.js';
import type { Services } from './services.js';

type ByLink = { Params: { id: string; channel: string; address: string } };

export function registerLinkRoutes(app: FastifyInstance, services: Services, auth: Authenticator): void {
  const { links } = services.useCases;
  const route = { onRequest: (request: FastifyRequest) => auth.basicOnly(request), config: { bodiless: true } };
  const one = `${APPLICATIONS_PATH}/:id/links/:channel/:address`;

  app.put<ByLink>(one, route, async (request, reply) => {
    const { channel, address } = target(request.params);
    const outcome = await links.put(request.caller.apiKey, request.params.id, channel, address);
    if (outcome === 'unknown-application') throw unknownId('ID', request.params.id);
    // The other account is not named, nor is whether it exists beyond this.
    if (outcome === 'taken') throw problem('link-taken', 'This address is linked to an application of another account.');
    if (outcome === 'limit') throw problem('application-limit', 'This account has as many links as it may have; delete one first.');
    return reply.code(204).send();
  });

  app.delete<ByLink>(one, route, async (request, reply) => {
    const { channel, address } = target(request.params);
    if (!(await links.delete(request.caller.apiKey, request.params.id, channel, address))) throw notFound('That application has no such link, or you do not have access');
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>(`${APPLICATIONS_PATH}/:id/links`, route, async (request) => {
    const found = await links.list(request.caller.apiKey, request.params.id);
    if (!found) throw unknownId('ID', request.params.id);
    return { links: found.map(toLinkResource) };
  });
}

function target(params: ByLink['Params']) {
  const checked = linkTarget(params.channel, params.address);
  // The reason names the rule, never the value sent.
  if (!checked.ok) throw problem('link-invalid', 'The request failed due to validation errors', [{ name: checked.name, reason: checked.reason }]);
  return checked;
}

const toLinkResource = (link: LinkRecord) => ({ channel: link.channel, address: link.address, application_id: link.applicationId });
