import type { MessageError } from '../../core/message-status.js';
import type { ProviderReport, SendFailure } from '../channel-adapter.js';

/**
 * Twilio's message statuses and error codes (channels reference §5.2) in the common model.
 * The error text Twilio sends is never passed on: the reason is ours, with Twilio's code.
 */

/** A status callback's MessageStatus as a report; undefined for the ones that say nothing new (queued … sent). */
export function twilioReport(status: string, errorCode: number | undefined, at: number): ProviderReport | undefined {
  switch (status) {
    case 'delivered':
    case 'partially_delivered':
      return { status: 'delivered', at };
    case 'read':
      return { status: 'read', at };
    case 'undelivered':
      return { status: 'undeliverable', at, error: deliveryError(errorCode) };
    case 'failed':
      // Never handed to a carrier: refused, unless Twilio says the fault was passing (its queue).
      return { status: errorCode === 30001 || errorCode === 30008 ? 'undeliverable' : 'rejected', at, error: deliveryError(errorCode) };
    case 'canceled':
      return { status: 'rejected', at, error: { code: 1360, reason: 'TTL was activated: Twilio canceled the message (canceled)' } };
    default:
      return undefined;
  }
}

function deliveryError(code: number | undefined): MessageError {
  const tagged = (nexmo: number, text: string): MessageError => ({ code: nexmo, reason: `${text} (Twilio ${code})` });
  switch (code) {
    case 30003:
      return tagged(1180, 'Absent subscriber - temporary: the handset is off or out of coverage');
    case 30005:
      return tagged(1190, 'Absent subscriber - permanent: the number is unknown');
    case 30006:
      return tagged(1310, 'Not suitable device: a landline or an unreachable carrier');
    case 30007:
      return tagged(1210, 'Anti-spam rejection: the carrier filtered the message');
    case 30004:
      return tagged(1280, 'Number blocked by carrier');
    case undefined:
      return { code: 1330, reason: 'Unknown (carrier): Twilio reported no error code' };
    default:
      return tagged(1330, 'Unknown (carrier)');
  }
}

/** A failed create-message call (HTTP status and Twilio's error `code`) as a send failure. */
export function classifyTwilioError(httpStatus: number, code: number | undefined, retryAfterMs: number | undefined): SendFailure {
  const rejected = (nexmo: number, reason: string, aboutProvider = false): SendFailure => ({ retryable: false, error: { code: nexmo, reason: `${reason} (Twilio ${code ?? httpStatus})` }, ...(aboutProvider && { aboutProvider }) });
  if (httpStatus === 429 || code === 20429 || code === 14107) return { retryable: true, error: { code: 1000, reason: `Throttled: Twilio asked us to slow down (${code ?? httpStatus})` }, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  if (httpStatus >= 500) return { retryable: true, error: { code: 1331, reason: `Provider error: Twilio answered ${httpStatus}` }, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  if (httpStatus === 401 || httpStatus === 403 || code === 20003) return rejected(1331, 'Provider error: Twilio refused the account credentials', true);
  switch (code) {
    case 21211:
    case 21614:
      return rejected(1170, 'Invalid or missing MSISDN: Twilio cannot send to this number');
    case 21610:
      return rejected(1240, 'Illegal number: the recipient unsubscribed (STOP)');
    case 21612:
    case 21408:
      return rejected(1250, 'Unroutable: Twilio cannot reach this destination from this account');
    case 21603:
    case 21606:
    case 21212:
      return rejected(1120, 'Illegal sender address: Twilio refused the From number', true);
    case 21602:
    case 21604:
      return rejected(1010, 'Missing params: Twilio wanted a field we did not send');
    case 21617:
      return rejected(1090, 'Message too long for Twilio');
    default:
      return rejected(1331, `Provider error: Twilio refused the message`);
  }
}
