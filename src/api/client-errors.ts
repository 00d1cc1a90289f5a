import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { problem, problemBody, SECURITY_HEADERS, type Problem } from './problem.js';

/** A client that does not read our answer does not keep its socket. */
const CLOSE_AFTER_MS = 5_000;

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (headers over the
 * limit, a method it does not know, a request that took too long to arrive, bytes that are not
 * HTTP) on the raw socket: a problem+json from the catalogue like every other error, with the
 * security headers and a trace id, then the connection is closed. Nothing of the request is
 * echoed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, newTraceId: () => string): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const failure = problemOf(error.code);
  const traceId = newTraceId();
  const body = JSON.stringify(problemBody(failure, traceId));
  const headers = {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
    ...SECURITY_HEADERS,
    'x-nexmo-trace-id': traceId,
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\r\n');
  socket.end(`HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}\r\n${head}\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), CLOSE_AFTER_MS).unref();
}

function problemOf(code: string | undefined): Problem {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return problem('headers-too-large', 'The request headers must be at most 16 KB in all.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problem('request-timeout', 'The request took too long to arrive.');
    case 'HPE_INVALID_METHOD':
      return problem('bad-request', 'The request method is not one this server knows.');
    default:
      return problem('bad-request', 'The request could not be read as HTTP.');
  }
}
