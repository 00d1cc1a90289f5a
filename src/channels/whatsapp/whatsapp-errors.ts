import type { MessageError } from '../../core/message-status.js';
import type { SendFailure } from '../channel-adapter.js';

/**
 * WhatsApp Cloud API error codes (channels reference §2.4) in the common model, the same whether
 * they come as the send's Graph error or in a `failed` status webhook (DESIGN §4: 131047 and its
 * relatives are `rejected` 1340 either way, so a Dispatch fails over at once). Meta's text is
 * never passed on.
 */

export type WhatsAppErrorClass =
  | { kind: 'retryable'; error: MessageError }
  | { kind: 'rejected'; error: MessageError; aboutProvider?: boolean }
  | { kind: 'undeliverable'; error: MessageError };

const TEMPLATE_CODES = new Set([132000, 132001, 132005, 132007, 132012, 132015, 132016]);
const PROVIDER_CODES = new Set([190, 0, 10, 3, 368, 131031, 130497, 133010, 131030]);

export function classifyWhatsAppError(code: number | undefined, httpStatus?: number): WhatsAppErrorClass {
  const tagged = (nexmo: number, text: string): MessageError => ({ code: nexmo, reason: `${text} (WhatsApp ${code ?? httpStatus})` });
  // 470 is 131047's predecessor (the on-premises API): the same closed window.
  if (code === 131047 || code === 470) return { kind: 'rejected', error: tagged(1340, 'Outside of the allowed window: more than 24 h since the user last wrote') };
  if (code !== undefined && TEMPLATE_CODES.has(code)) return { kind: 'rejected', error: tagged(1022, 'Invalid template or template parameters') };
  if (code === 100 || code === 131008 || code === 131009 || code === 131051 || code === 131021) return { kind: 'rejected', error: tagged(1020, 'Invalid params: WhatsApp refused the message') };
  if (code === 131053) return { kind: 'rejected', error: tagged(1380, 'Invalid resource: WhatsApp could not fetch the media') };
  if (code === 131048) return { kind: 'rejected', error: tagged(1210, 'Anti-spam rejection: the spam rate limit was hit') };
  if (code !== undefined && (PROVIDER_CODES.has(code) || (code >= 200 && code <= 299))) return { kind: 'rejected', error: tagged(1331, 'Provider error: the WhatsApp account, number or token is not allowed to send'), aboutProvider: true };
  if (code === 131056 || code === 130429 || code === 4 || code === 80007 || httpStatus === 429) return { kind: 'retryable', error: tagged(1000, 'Throttled: WhatsApp rate limit') };
  if (code === 131000 || code === 131016 || code === 2 || code === 1 || (httpStatus !== undefined && httpStatus >= 500)) return { kind: 'retryable', error: tagged(1331, 'Provider error: WhatsApp is unavailable') };
  if (code === 131026) return { kind: 'undeliverable', error: tagged(1300, 'Not part of the provider network: not a WhatsApp user, or an outdated client') };
  if (code === 131049) return { kind: 'undeliverable', error: tagged(1210, 'Anti-spam rejection: Meta chose not to deliver this marketing message') };
  if (code === 131050) return { kind: 'undeliverable', error: tagged(1240, 'Illegal number: the user stopped marketing messages') };
  return { kind: 'undeliverable', error: tagged(1330, 'Unknown: WhatsApp could not deliver the message') };
}

/** A send's Graph error as a send failure: what could not be sent is a rejection, whatever its kind. */
export function sendFailureOf(httpStatus: number, code: number | undefined): SendFailure {
  const classified = classifyWhatsAppError(code, httpStatus);
  if (classified.kind === 'retryable') return { retryable: true, error: classified.error };
  return { retryable: false, error: classified.error, ...(classified.kind === 'rejected' && classified.aboutProvider && { aboutProvider: true }) };
}
