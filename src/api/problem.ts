import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InvalidParameter } from '../core/validation.js';

/**
 * Every problem+json the API sends, in one coded catalogue (DESIGN §2 rule 7): the type URI,
 * title and status of each, in Nexmo's shape (reference §1.6, §2.5, §3). Handlers throw
 * `problem(code, detail)`; the app's error handler renders it with `instance` = the request's
 * trace id (also in `x-nexmo-trace-id`).
 */
const NEXMO = 'https://developer.nexmo.com/api-errors';

export const PROBLEMS = {
  /** Messages and Dispatch v0.1: one `invalid_parameters` entry per bad field. */
  'invalid-params': { status: 400, type: 'https://www.nexmo.com/messages/Errors#InvalidParams', title: "Your request parameters didn't validate." },
  /** Also Fastify's other 4xx, with their own status. */
  'bad-request': { status: 400, type: `${NEXMO}#bad-request`, title: 'Bad Request' },
  'application-payload': { status: 400, type: `${NEXMO}/application#payload-validation`, title: 'Bad Request' },
  'application-list': { status: 400, type: `${NEXMO}/application#list-validation`, title: 'Bad Request' },
  /** The gateway's 401 for Messages and Dispatch: the same body whatever was wrong with the token. */
  'invalid-token': { status: 401, type: `${NEXMO}#unauthorized`, title: 'Unauthorised' },
  /** The Applications API's (and the sandbox's) 401. */
  'invalid-credentials': { status: 401, type: `${NEXMO}#unauthorized`, title: 'Invalid credentials supplied' },
  'not-found': { status: 404, type: `${NEXMO}#not-found`, title: 'Not Found' },
  'wrong-verb': { status: 405, type: `${NEXMO}#wrong-verb`, title: 'Request method not allowed' },
  'application-limit': { status: 409, type: `${NEXMO}/application#limit`, title: 'Conflict' },
  'link-invalid': { status: 400, type: `${NEXMO}/application#link-validation`, title: 'Bad Request' },
  'link-taken': { status: 409, type: `${NEXMO}/application#link-taken`, title: 'Conflict' },
  'sandbox-not-readable': { status: 409, type: `${NEXMO}/sandbox#not-readable`, title: 'Conflict' },
  'sandbox-real-clock': { status: 409, type: `${NEXMO}/sandbox#real-clock`, title: 'Conflict' },
  /** A client that took too long to send its request (headers or body). */
  'request-timeout': { status: 408, type: `${NEXMO}#request-timeout`, title: 'Request Timeout' },
  'payload-too-large': { status: 413, type: `${NEXMO}#payload-too-large`, title: 'Payload Too Large' },
  'unsupported-content-type': { status: 415, type: `${NEXMO}#content-type-header`, title: 'Unsupported Content-Type header' },
  /** Too many failed credential checks for this api key or client address (Retry-After says when to come back). */
  'too-many-attempts': { status: 429, type: `${NEXMO}#too-many-attempts`, title: 'Too Many Requests' },
  'sandbox-no-inbound-url': { status: 422, type: `${NEXMO}/sandbox#no-inbound-url`, title: 'Unprocessable Entity' },
  'headers-too-large': { status: 431, type: `${NEXMO}#headers-too-large`, title: 'Request Header Fields Too Large' },
  'database-unavailable': { status: 503, type: `${NEXMO}#service-unavailable`, title: 'Service Unavailable' },
  'internal-error': { status: 500, type: `${NEXMO}#internal-error`, title: 'Internal Server Error' },
} as const satisfies Record<string, { status: number; type: string; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export class Problem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  /** Sent as `Retry-After` (429). */
  retryAfterSeconds?: number;

  /** `status` overrides the catalogue's only where a framework error brings its own (a 4xx of Fastify's). */
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly invalidParameters?: InvalidParameter[],
    status: number = PROBLEMS[code].status,
  ) {
    const { type, title } = PROBLEMS[code];
    super(`${status} ${title}: ${detail}`);
    this.status = status;
    this.type = type;
    this.title = title;
  }
}

export const problem = (code: ProblemCode, detail: string, invalidParameters?: InvalidParameter[], status?: number): Problem =>
  new Problem(code, detail, invalidParameters, status);

/** Messages and Dispatch v0.1: one entry per bad field. */
export const invalidParams = (invalidParameters: InvalidParameter[]): Problem =>
  problem('invalid-params', `Found errors validating ${invalidParameters.length} of your submitted parameters.`, invalidParameters);

export const invalidToken = (): Problem => problem('invalid-token', 'Invalid Token');

export const invalidCredentials = (): Problem => problem('invalid-credentials', 'You did not provide correct credentials.');

export const notFound = (detail: string): Problem => problem('not-found', detail);

/** Letters, digits and dashes: the alphabet of ids (uuids, Nexmo's `ABC123`), no markup, no quotes. */
const ID_SHAPE = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Nexmo's 404 names the id (`ID 'ABC123' does not exist, or you do not have access`). Named only
 * when it has the shape of an id, so no other text a client sent comes back to it.
 */
export function unknownId(what: string, id: string): Problem {
  const named = ID_SHAPE.test(id) ? `${what} '${id}'` : `That ${what.toLowerCase()}`;
  return notFound(`${named} does not exist, or you do not have access`);
}

export function tooManyAttempts(retryAfterSeconds: number): Problem {
  const failure = problem('too-many-attempts', 'Too many failed attempts to authenticate; try again later.');
  failure.retryAfterSeconds = retryAfterSeconds;
  return failure;
}

/** Headers Nexmo's gateway sets on every response, problems included. */
export const SECURITY_HEADERS = {
  'x-xss-protection': '1; mode=block',
  'strict-transport-security': 'max-age=31536000; includeSubdomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'deny',
};

/** The problem+json body; `instance` is the request's trace id. */
export function problemBody(failure: Problem, traceId: string): Record<string, unknown> {
  return {
    type: failure.type,
    title: failure.title,
    detail: failure.detail,
    instance: traceId,
    ...(failure.invalidParameters && { invalid_parameters: failure.invalidParameters }),
  };
}

export function renderProblem(request: FastifyRequest, reply: FastifyReply, failure: Problem): FastifyReply {
  if (failure.retryAfterSeconds !== undefined) reply.header('retry-after', String(failure.retryAfterSeconds));
  return reply
    // Also for errors raised before the onRequest hook set these (a malformed URL).
    .headers({ ...SECURITY_HEADERS, 'x-nexmo-trace-id': request.id })
    .code(failure.status)
    .type('application/problem+json')
    .send(problemBody(failure, request.id));
}
