/**
 * Applications API v2 (reference/nexmo-api.md §3): an account's applications, with the public
 * key its JWTs are verified with and the webhook addresses its messages report to.
 * Basic auth only. Another account's application is answered exactly like an unknown id.
 */
import { generateKeyPair, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InvalidParameter } from '../core/validation.js';
import type { ApplicationRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
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
import { Problem, notFound } from './problem.js';
import type { Services } from './services.js';

type ById = { Params: { id: string } };

const ERRORS = 'https://developer.nexmo.com/api-errors/application';
const VALIDATION_DETAIL = 'The request failed due to validation errors';

const payloadInvalid = (parameters: InvalidParameter[]): Problem =>
  new Problem(400, `${ERRORS}#payload-validation`, 'Bad Request', VALIDATION_DETAIL, parameters);

const listInvalid = (parameters: InvalidParameter[]): Problem =>
  new Problem(400, `${ERRORS}#list-validation`, 'Bad Request', VALIDATION_DETAIL, parameters);

const missing = (id: string): Problem => notFound(`ID '${id}' does not exist, or you do not have access`);

export function registerApplicationRoutes(app: FastifyInstance, services: Services, auth: Authenticator): void {
  const { store, clock } = services;
  const route = { onRequest: (request: FastifyRequest) => auth.basicOnly(request) };
  const one = `${APPLICATIONS_PATH}/:id`;

  /** 201; a generated private key is in this response and nowhere else, ever (DESIGN §3). */
  app.post(APPLICATIONS_PATH, route, async (request, reply) => {
    const payload = readPayload(request.body);
    const keys = await keysFor(payload);
    const now = clock.now();
    const record: ApplicationRecord = {
      id: randomUUID(),
      apiKey: request.caller.apiKey,
      ...recordFields(payload, keys.publicKey),
      createdAt: now,
      updatedAt: now,
    };
    await store.insertApplication(record);
    return reply.code(201).send(toApplicationResource(record, keys.privateKey));
  });

  app.get(APPLICATIONS_PATH, route, async (request) => {
    const query = validateListQuery(request.query);
    if (!query.ok) throw listInvalid(query.errors);
    const { items, total } = await store.listApplications(request.caller.apiKey, window(query.value));
    return toApplicationCollection(items, total, query.value);
  });

  app.get<ById>(one, route, async (request) => toApplicationResource(await findOwn(store, request)));

  /** Full replace; without `keys.public_key` the application keeps its key. */
  app.put<ById>(one, route, async (request) => {
    const existing = await findOwn(store, request);
    const payload = readPayload(request.body);
    const record: ApplicationRecord = {
      ...existing,
      ...recordFields(payload, payload.publicKey ?? existing.publicKey),
      updatedAt: clock.now(),
    };
    // Deleted between the read and the write: the same answer as if we had been a moment later.
    if (!(await store.updateApplication(record))) throw missing(request.params.id);
    return toApplicationResource(record);
  });

  app.delete<ById>(one, route, async (request, reply) => {
    if (!(await store.deleteApplication(request.caller.apiKey, request.params.id))) throw missing(request.params.id);
    return reply.code(204).send();
  });
}

function readPayload(body: unknown): ApplicationPayload {
  const validation = validateApplicationPayload(body);
  if (!validation.ok) throw payloadInvalid(validation.errors);
  return validation.value;
}

function recordFields(payload: ApplicationPayload, publicKey: string): Pick<ApplicationRecord, 'name' | 'publicKey' | 'capabilities' | 'privacy'> {
  return { name: payload.name, publicKey, capabilities: payload.capabilities, privacy: payload.privacy };
}

async function findOwn(store: Store, request: FastifyRequest<ById>): Promise<ApplicationRecord> {
  const application = await store.findApplication(request.params.id);
  if (!application || application.apiKey !== request.caller.apiKey) throw missing(request.params.id);
  return application;
}

/** The client's public key, or a fresh pair when it sent none. */
async function keysFor(payload: ApplicationPayload): Promise<{ publicKey: string; privateKey?: string }> {
  return payload.publicKey === undefined ? generateRsaKeyPair() : { publicKey: payload.publicKey };
}

const window = ({ pageSize, page }: ListPage) => ({ limit: pageSize, offset: (page - 1) * pageSize });

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * RSA-2048 for RS256, in the PEM forms nexmo-cli writes and reads (PKCS#8 private, SPKI public).
 * Asynchronous: generation takes tens of milliseconds and must not block other requests.
 */
async function generateRsaKeyPair(): Promise<{ publicKey: string; privateKey: string }> {
  return generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}
