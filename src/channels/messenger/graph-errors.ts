import type { MessageError } from '../../core/message-status.js';
import type { SendFailure } from '../channel-adapter.js';
import { parseJsonObject } from '../http/provider-http.js';

/**
 * What a Graph API error means for a Messenger send (channels reference §1.2): retried (rate
 * limits, temporary failures), rejected with the nearest Nexmo code (about the recipient or the
 * content), or rejected as a fault of the provider configuration (a token, a permission). The
 * decision reads `code` and `error_subcode` only; Meta's message text is never passed on.
 */

export interface GraphError {
  code?: number;
  subcode?: number;
}

/** Meta says code 2 can also mean the user blocked the page: retried this often, then taken as that. */
const MAX_TRIES_OF_UNEXPECTED_ERROR = 3;

const failure = (error: MessageError, more: Partial<SendFailure> = {}): SendFailure => ({ retryable: false, error, ...more });
const retry = (reason: string): SendFailure => ({ retryable: true, error: { code: 1000, reason } });

export function classifyGraphError(httpStatus: number, graph: GraphError, attempt: number): SendFailure {
  const { code, subcode } = graph;
  switch (code) {
    case 1200:
      return retry('Throttled: Messenger reported a temporary send failure (1200)');
    case 4:
    case 613:
      // A marketing-message frequency cap is not lifted by trying again soon.
      if (subcode === 2018354) return failure({ code: 1241, reason: 'Too many send requests: Messenger frequency limit (4/2018354)' });
      return retry(`Throttled: Messenger rate limit reached (${code}${subcode ? `/${subcode}` : ''})`);
    case 2:
      if (attempt < MAX_TRIES_OF_UNEXPECTED_ERROR) return { retryable: true, error: { code: 1331, reason: 'Provider error: Messenger reported an unexpected error (2)' } };
      return failure({ code: 1260, reason: 'Destination unreachable: Messenger kept reporting an unexpected error (2)' });
    case 10:
      if (subcode === 2018278 || subcode === 2018065) return failure({ code: 1340, reason: 'Outside of the allowed window: the 24 h Messenger window is closed' });
      return failure({ code: 1260, reason: `Destination unreachable: this person cannot receive messages now (10${subcode ? `/${subcode}` : ''})` });
    case 9:
      return failure({ code: 1241, reason: `Too many send requests: Messenger frequency limit (9${subcode ? `/${subcode}` : ''})` });
    case 190:
      return failure({ code: 1370, reason: 'Expired access token: the page access token is invalid or expired (190)' }, { aboutProvider: true });
    case 551:
      return failure({ code: 1260, reason: 'Destination unreachable: this person is not available on Messenger (551)' });
    case 100:
      if (subcode === 2018001) return failure({ code: 1300, reason: 'Not part of the provider network: no Messenger user matches this id (100/2018001)' });
      if (subcode === 2018109) return failure({ code: 1381, reason: 'Resource too large: the attachment exceeds the Messenger limit (100/2018109)' });
      return failure({ code: 1020, reason: `Invalid params: Messenger refused the request (100${subcode ? `/${subcode}` : ''})` });
    case 200:
      if (subcode === 1545041) return failure({ code: 1260, reason: 'Destination unreachable: this person is not receiving messages (200/1545041)' });
      if (subcode === 2018021) return failure({ code: 1350, reason: 'Phone matching fee not paid (200/2018021)' }, { aboutProvider: true });
      return failure({ code: 1331, reason: `Provider error: the Messenger app lacks a permission (200${subcode ? `/${subcode}` : ''})` }, { aboutProvider: true });
    case 1:
    case 99:
    case 230:
      return failure({ code: 1331, reason: `Provider error: the Messenger app or page lacks a permission (${code})` }, { aboutProvider: true });
    default:
      if (httpStatus >= 500 || httpStatus === 429) return { retryable: true, error: { code: 1331, reason: `Provider error: the Graph API answered ${httpStatus}` } };
      return failure({ code: 1331, reason: `Provider error: the Graph API answered ${httpStatus}${code === undefined ? '' : ` with error ${code}`}` });
  }
}

/** The `error` object of a Graph error body, when the body is one. */
export function graphErrorOf(body: string): GraphError {
  const error = parseJsonObject(body)?.error as { code?: unknown; error_subcode?: unknown } | undefined;
  if (typeof error !== 'object' || error === null) return {};
  return {
    code: typeof error.code === 'number' ? error.code : undefined,
    subcode: typeof error.error_subcode === 'number' ? error.error_subcode : undefined,
  };
}
