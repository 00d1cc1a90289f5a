import type { MessageError } from '../../core/message-status.js';
import type { ProviderReport, SendFailure } from '../channel-adapter.js';

/**
 * The Vonage SMS API's send statuses and delivery receipts (channels reference §5.1) in the
 * common model. Nexmo's messages error codes mirror both tables (send status n ↔ 10n0, DLR
 * err-code ↔ 1180…1330), so each keeps its meaning.
 */

const SEND_STATUSES: Readonly<Record<string, { code: number; reason: string; retryable?: boolean; aboutProvider?: boolean }>> = {
  '1': { code: 1000, reason: 'Throttled', retryable: true },
  '2': { code: 1010, reason: 'Missing params' },
  '3': { code: 1020, reason: 'Invalid params' },
  '4': { code: 1331, reason: 'Provider error: Vonage refused the API credentials', aboutProvider: true },
  '5': { code: 1331, reason: 'Provider error: Vonage had an internal error', retryable: true },
  '6': { code: 1040, reason: 'Invalid message: Vonage cannot route this number' },
  '7': { code: 1050, reason: 'Number barred' },
  '8': { code: 1060, reason: 'Partner account barred', aboutProvider: true },
  '9': { code: 1070, reason: 'Partner quota exceeded', aboutProvider: true },
  '10': { code: 1000, reason: 'Throttled: too many concurrent binds', retryable: true },
  '11': { code: 1080, reason: 'Account not enabled for REST', aboutProvider: true },
  '12': { code: 1090, reason: 'Message too long' },
  '14': { code: 1110, reason: 'Invalid signature', aboutProvider: true },
  '15': { code: 1120, reason: 'Illegal sender address - rejected' },
  '22': { code: 1020, reason: 'Invalid params: invalid network code' },
  '23': { code: 1020, reason: 'Invalid params: Vonage refused the callback URL', aboutProvider: true },
  '29': { code: 1160, reason: 'Non white-listed destination' },
  '32': { code: 1331, reason: 'Provider error: signature and api secret both sent', aboutProvider: true },
  '33': { code: 1190, reason: 'Absent subscriber - permanent: the number is de-activated' },
};

/** A message entry's non-zero `status` as a send failure; Vonage's `error-text` is not passed on. */
export function classifySendStatus(status: string): SendFailure {
  const known = SEND_STATUSES[status];
  if (!known) return { retryable: false, error: { code: 1331, reason: `Provider error: Vonage answered status ${status.slice(0, 8)}` } };
  return { retryable: known.retryable === true, error: { code: known.code, reason: `${known.reason} (Vonage status ${status})` }, ...(known.aboutProvider && { aboutProvider: true }) };
}

const ERR_CODES: Readonly<Record<string, { code: number; reason: string }>> = {
  '1': { code: 1330, reason: 'Unknown (carrier)' },
  '2': { code: 1180, reason: 'Absent subscriber - temporary' },
  '3': { code: 1190, reason: 'Absent subscriber - permanent' },
  '4': { code: 1050, reason: 'Number barred: call barred by the user' },
  '5': { code: 1200, reason: 'Portability error' },
  '6': { code: 1210, reason: 'Anti-spam rejection' },
  '7': { code: 1220, reason: 'Handset busy' },
  '8': { code: 1230, reason: 'Network error' },
  '9': { code: 1240, reason: 'Illegal number: opted out (STOP)' },
  '10': { code: 1040, reason: 'Invalid message' },
  '11': { code: 1250, reason: 'Unroutable' },
  '12': { code: 1260, reason: 'Destination unreachable' },
  '13': { code: 1270, reason: 'Subscriber age restriction' },
  '14': { code: 1280, reason: 'Number blocked by carrier' },
  '15': { code: 1290, reason: 'Pre-paid - insufficient funds' },
  '99': { code: 1330, reason: 'Unknown (carrier): general error' },
};

function receiptError(errCode: string | undefined): MessageError {
  const known = errCode === undefined ? undefined : ERR_CODES[errCode];
  return known ? { code: known.code, reason: `${known.reason} (Vonage err-code ${errCode})` } : { code: 1330, reason: 'Unknown (carrier)' };
}

/** A DLR's `status` as a report; undefined for the ones that say nothing new (accepted, buffered, unknown). */
export function receiptReport(status: string, errCode: string | undefined, at: number): ProviderReport | undefined {
  switch (status) {
    case 'delivered':
      return { status: 'delivered', at };
    case 'expired':
    case 'failed':
      return { status: 'undeliverable', at, error: receiptError(errCode) };
    case 'rejected':
      return { status: 'rejected', at, error: receiptError(errCode) };
    default:
      return undefined;
  }
}
