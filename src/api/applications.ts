/**
 * Applications API v2 (reference/nexmo-api.md §3): an account's applications, with the public
 * key its JWTs are verified with and the webhook addresses its messages report to.
 * Basic auth only. Another account's application is answered exactly like an unknown id.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InvalidParameter } from '../core/validation.js';
import {
  APPLICATIONS_PATH,
  toApplicationCollection,
  toApplicationResource,
  validateApplicationPayload,
  validateListQuery,
  type ApplicationPayload,
  type ListPage,
} from './application-payload.js';
import type { Authenticator } from './authenticate.js';
import { problem, unknownId } from './problem.js';
import type { Services } from './services.js';

type ById = { Params: { id: string } };

const VALIDATION_DETAIL = 'The request failed due to validation errors';

const missing = (id: string) => unknownId('ID', id);

export function registerApplicationRoutes(app: FastifyInstance, services: Services, auth: Authenticator): void {
  const { applications } = services.useCases;
  const route = { onRequest: (request: FastifyRequest) => auth.basicOnly(request) };
  const one = `${APPLICATIONS_PATH}/:id`;

  /** 201; a generated private key is in this response and nowhere else, ever (DESIGN §3). */
  app.post(APPLICATIONS_PATH, route, async (request, reply) => {
    const created = await applications.create(request.caller.apiKey, readPayload(request.body, applications));
    if ('limitReached' in created) throw problem('application-limit', `This account has ${created.limitReached} applications, the most it may have; delete one first.`);
    return reply.code(201).send(toApplicationResource(created.application, created.privateKey));
  });

  app.get(APPLICATIONS_PATH, route, async (request) => {
    const query = validateListQuery(request.query);
    if (!query.ok) throw problem('application-list', VALIDATION_DETAIL, query.errors);
    const { items, total } = await applications.list(request.caller.apiKey, window(query.value));
    return toApplicationCollection(items, total, query.value);
  });

  app.get<ById>(one, route, async (request) => {
    const application = await applications.findOwn(request.caller.apiKey, request.params.id);
    if (!application) throw missing(request.params.id);
    return toApplicationResource(application);
  });

  /** Full replace; without `keys.public_key` the application keeps its key. */
  app.put<ById>(one, route, async (request) => {
    // Unknown and deleted-meanwhile alike: the same answer as if we had been a moment later.
    if (!(await applications.findOwn(request.caller.apiKey, request.params.id))) throw missing(request.params.id);
    const replaced = await applications.replace(request.caller.apiKey, request.params.id, readPayload(request.body, applications));
    if (!replaced) throw missing(request.params.id);
    return toApplicationResource(replaced);
  });

  app.delete<ById>(one, { ...route, config: { bodiless: true } }, async (request, reply) => {
    if (!(await applications.delete(request.caller.apiKey, request.params.id))) throw missing(request.params.id);
    return reply.code(204).send();
  });
}

function readPayload(body: unknown, applications: Services['useCases']['applications']): ApplicationPayload {
  const validation = validateApplicationPayload(body);
  if (!validation.ok) throw payloadInvalid(validation.errors);
  const refused = applications.refusedAddresses(validation.value.capabilities);
  if (refused.length > 0) throw payloadInvalid(refused);
  return validation.value;
}

const payloadInvalid = (parameters: InvalidParameter[]) => problem('application-payload', VALIDATION_DETAIL, parameters);

const window = ({ pageSize, page }: ListPage) => ({ limit: pageSize, offset: (page - 1) * pageSize });
