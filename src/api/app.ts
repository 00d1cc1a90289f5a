import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { isOpenDispatchError } from '../core/errors.js';
import { createAuthenticator } from './authenticate.js';
import { registerApplicationRoutes } from './applications.js';
import { registerLinkRoutes } from './links.js';
import { registerProviderRoutes } from './providers.js';
import { registerDispatchRoutes } from './dispatch.js';
import { registerMessageRoutes } from './messages.js';
import { answerClientError } from './client-errors.js';
import { nulInJsonBody, nulInParameters } from './nul-characters.js';
import { Problem, SECURITY_HEADERS, invalidParams, problem, renderProblem } from './problem.js';
import { registerProviderWebhookRoutes } from './provider-webhooks.js';
import { registerSandboxRoutes } from './sandbox.js';
import type { Services } from './services.js';

const ONE_MEGABYTE = 1024 * 1024;
/** A path segment longer than this matches no route (404): no id of ours is longer. */
const MAX_PARAM_LENGTH = 100;
const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

// From randomUUID, which draws on a pooled buffer of entropy: randomBytes(16) per request was a
// syscall each, 6 % of the accept path's time (npm run bench, job engine stopped).
const newTraceId = () => randomUUID().replaceAll('-', '');

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes no body: an empty one is accepted whatever its content type says. */
    bodiless?: boolean;
  }
}

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    bodyLimit: ONE_MEGABYTE,
    // Traces are 32 hex digits, like Nexmo's; they are every problem's `instance`.
    genReqId: newTraceId,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // A slow client is cut off (docs/security.md): headers, the whole request, an idle keep-alive.
    http: { headersTimeout: services.http.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, services.http.headersTimeoutMs) },
    requestTimeout: services.http.requestTimeoutMs,
    // Behind a reverse proxy the client's address (failed-auth throttling) is the one it forwards.
    trustProxy: services.http.trustProxy.length > 0 ? [...services.http.trustProxy] : false,
    keepAliveTimeout: services.http.keepAliveTimeoutMs,
    // What Node's parser refuses, and a URL Fastify cannot decode, are problems like any other.
    clientErrorHandler: (error, socket) => answerClientError(error, socket, newTraceId),
    frameworkErrors: (error, request, reply) =>
      renderProblem(
        request,
        reply,
        // A path segment longer than any id of ours names nothing: as for any other unknown path.
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? problem('not-found', 'No route matches this method and path.') : problem('bad-request', 'The request URL is malformed.'),
      ),
  });
  // Beyond this many connections at once new ones are closed on accept, so sockets held by slow
  // clients cannot exhaust the process's descriptors. (A connection that sends nothing is
  // answered 408 after headersTimeout like one that trickles: Node counts from its start.)
  app.server.maxConnections = services.http.maxConnections;

  // Every API takes JSON: any other body is a 415, not a confusing 400 about its shape.
  app.removeContentTypeParser('text/plain');
  // curl and many SDKs send `Content-Type: application/json` with no body on a DELETE or a bare
  // POST: a route that takes no body (config.bodiless) reads that as no body, not as empty JSON.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text === '' && request.routeOptions.config.bodiless === true) return done(null, undefined);
    parseJson(request, text, (error, parsed) => {
      const nul = error ? undefined : nulInJsonBody(text, parsed);
      return nul ? done(invalidParams([nul])) : done(error, parsed);
    });
  });
  app.addHook('preValidation', async (request) => {
    const nul = nulInParameters(request.params, 'path') ?? nulInParameters(request.query, 'query');
    if (nul) throw invalidParams([nul]);
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.headers({ ...SECURITY_HEADERS, 'x-nexmo-trace-id': request.id });
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // Lingering close: Fastify would close the connection at once while the client is still
    // sending, and the reset that unread data causes makes most clients lose the 413. Kept
    // open, Node reads and discards the rest of the body (for at most http.request_timeout_ms)
    // and the client reads its answer.
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') reply.removeHeader('connection');
    // A database outage is the server's, not the request's: the client may try again.
    if (error.code === 'OD_DATABASE_UNAVAILABLE') reply.header('retry-after', '5');
    return renderProblem(request, reply, toProblem(error, request.log));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // A known path asked with the wrong method is a 405 naming the right ones, as the Applications API does.
    const allowed = ROUTE_METHODS.filter((method) => app.findRoute({ method, url: path }));
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return renderProblem(request, reply, problem('wrong-verb', `This method is not allowed on this path; use ${allowed.join(' or ')}.`));
    }
    // The path is not echoed: what a client sent never comes back in an error.
    return renderProblem(request, reply, problem('not-found', 'No route matches this method and path.'));
  });

  const auth = createAuthenticator(services.useCases, services.clock, services.auth);
  app.get('/health', async () => ({ status: 'ok' }));
  registerApplicationRoutes(app, services, auth);
  registerLinkRoutes(app, services, auth);
  registerProviderRoutes(app, services, auth);
  registerMessageRoutes(app, services, auth);
  registerDispatchRoutes(app, services, auth);
  registerSandboxRoutes(app, services, auth);
  await registerProviderWebhookRoutes(app, services);
  return app;
}

/** Every failure becomes a problem+json; only a real fault is a 500, and it is logged. */
function toProblem(error: FastifyError, log: FastifyBaseLogger): Problem {
  if (error instanceof Problem) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('payload-too-large', 'The request body must be at most 1 MB.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('unsupported-content-type', 'Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidParams([{ name: 'body', reason: 'The JSON Object cannot be empty' }]);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return invalidParams([{ name: 'body', reason: 'is not valid JSON' }]);
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    // Fastify's own 4xx keep their status; their messages name the rule, never the client's input.
    return problem('bad-request', error.message, undefined, error.statusCode);
  }
  if (error.code === 'OD_DATABASE_UNAVAILABLE') {
    log.warn({ code: error.code }, 'the database cannot be reached');
    return problem('database-unavailable', 'The database cannot be reached right now; try again shortly.');
  }
  // Our own internal errors carry a stable code; the detail names it, never the message.
  const code = isOpenDispatchError(error) ? error.code : 'OD_INTERNAL';
  log.error({ err: error, code }, 'unhandled error');
  return problem('internal-error', `Something went wrong (${code}); the trace id identifies it in the server log.`);
}
