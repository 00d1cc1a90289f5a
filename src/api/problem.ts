import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InvalidParameter } from '../core/validation.js';

/**
 * An API error as RFC 7807 problem+json in Nexmo's shape. Handlers throw it; the app's error
 * handler renders it with `instance` = the request's trace id (also in `x-nexmo-trace-id`).
 */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly invalidParameters?: InvalidParameter[],
  ) {
    super(`${status} ${title}: ${detail}`);
  }
}

const ERRORS = 'https://developer.nexmo.com/api-errors';

/** Messages and Dispatch v0.1: one entry per bad field. */
export function invalidParams(invalidParameters: InvalidParameter[]): Problem {
  const count = invalidParameters.length;
  return new Problem(
    400,
    'https://www.nexmo.com/messages/Errors#InvalidParams',
    "Your request parameters didn't validate.",
    `Found errors validating ${count} of your submitted parameters.`,
    invalidParameters,
  );
}

/** The gateway's 401 for Messages/Dispatch: the same body whatever was wrong with the token. */
export const invalidToken = (): Problem => new Problem(401, `${ERRORS}#unauthorized`, 'Unauthorised', 'Invalid Token');

/** The Applications API's 401. */
export const invalidCredentials = (): Problem =>
  new Problem(401, `${ERRORS}#unauthorized`, 'Invalid credentials supplied', 'You did not provide correct credentials.');

export const notFound = (detail: string): Problem => new Problem(404, `${ERRORS}#not-found`, 'Not Found', detail);

export function renderProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({
      type: problem.type,
      title: problem.title,
      detail: problem.detail,
      instance: request.id,
      ...(problem.invalidParameters && { invalid_parameters: problem.invalidParameters }),
    });
}
