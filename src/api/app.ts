import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { isOpenDispatchError } from '../core/errors.js';
import { createAuthenticator } from './authenticate.js';
import { registerApplicationRoutes } from './applications.js';
import { registerDispatchRoutes } from './dispatch.js';
import { registerMessageRoutes } from './messages.js';
import { Problem, invalidParams, problem, renderProblem } from './problem.js';
import { registerProviderWebhookRoutes } from './provider-webhooks.js';
import { registerSandboxRoutes } from './sandbox.js';
import type { Services } from './services.js';

const ONE_MEGABYTE = 1024 * 1024;
const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** Headers Nexmo's gateway sets on every response. */
const SECURITY_HEADERS = {
  'x-xss-protection': '1; mode=block',
  'strict-transport-security': 'max-age=31536000; includeSubdomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'deny',
};

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    bodyLimit: ONE_MEGABYTE,
    // Traces are 32 hex digits, like Nexmo's; they are every problem's `instance`.
    genReqId: () => randomBytes(16).toString('hex'),
    routerOptions: { ignoreTrailingSlash: true },
  });

  // Every API takes JSON: any other body is a 415, not a confusing 400 about its shape.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (request, reply) => {
    reply.headers({ ...SECURITY_HEADERS, 'x-nexmo-trace-id': request.id });
  });
  app.setErrorHandler((error: FastifyError, request, reply) => renderProblem(request, reply, toProblem(error, request.log)));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // A known path asked with the wrong method is a 405 naming the right ones, as the Applications API does.
    const allowed = ROUTE_METHODS.filter((method) => app.findRoute({ method, url: path }));
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return renderProblem(request, reply, problem('wrong-verb', `${request.method} is not allowed on ${path}; use ${allowed.join(' or ')}.`));
    }
    return renderProblem(request, reply, problem('not-found', `No route ${request.method} ${path}`));
  });

  const auth = createAuthenticator(services.useCases, services.clock);
  app.get('/health', async () => ({ status: 'ok' }));
  registerApplicationRoutes(app, services, auth);
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
  // Our own internal errors carry a stable code; the detail names it, never the message.
  const code = isOpenDispatchError(error) ? error.code : 'OD_INTERNAL';
  log.error({ err: error, code }, 'unhandled error');
  return problem('internal-error', `Something went wrong (${code}); the trace id identifies it in the server log.`);
}
