/**
 * SMPP delivery receipts (reference channels.md §4.3): the TLVs of a deliver_sm, or the
 * vendor-specific text of its short_message, read into one shape, and what it means for the
 * message's status (§4.7).
 */
import type { MessageError } from '../../core/message-status.js';

export interface DeliveryReceipt {
  /** The SMSC's message id the receipt is about (match it with referenceCandidates). */
  messageId: string;
  /** The state in upper case, e.g. DELIVRD. */
  state: string;
  /** The `err` field (network/SMSC specific, e.g. "000"); informational only. */
  error?: string;
  /** `submit date` as UTC ms since the epoch. */
  submitted?: number;
  /** `done date` as UTC ms since the epoch. */
  done?: number;
}

/** message_state TLV values (SMPP 3.4 §5.2.28; 0 and 9 are SMPP 5.0) → the stat text of the same meaning. */
const MESSAGE_STATES: readonly string[] = ['SCHEDULED', 'ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'SKIPPED'];

/** The stat name of a message_state TLV value; undefined for values outside the table. */
export function messageStateName(state: number): string | undefined {
  return Number.isInteger(state) ? MESSAGE_STATES[state] : undefined;
}

/**
 * A key (the two dates have a space, some vendors write an underscore or nothing), starting the
 * text or after white space, then a colon.
 */
const KEY = /(^|\s)([a-z_]+(?: date)?)\s*:/gi;

/**
 * Reads `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…` tolerantly: keys in
 * any case and order, any of them missing, unknown ones ignored, the first of a repeated key
 * kept, each value its first word. `text:` ends the scan: the rest is the user's message
 * (up to 20 characters of it) and must never be read as fields. No id or no stat: undefined.
 */
export function parseReceiptText(text: string): DeliveryReceipt | undefined {
  const fields = new Map<string, string>();
  const keys: Array<{ key: string; start: number; valueStart: number }> = [];
  for (const match of text.matchAll(KEY)) {
    const key = match[2]!.toLowerCase().replace(/[\s_]/g, '');
    keys.push({ key, start: match.index + match[1]!.length, valueStart: match.index + match[0].length });
    if (key === 'text') break;
  }
  keys.forEach(({ key, valueStart }, index) => {
    if (key === 'text' || fields.has(key)) return;
    const value = text.slice(valueStart, keys[index + 1]?.start ?? text.length).trim().split(/\s+/)[0] ?? '';
    if (value !== '') fields.set(key, value);
  });

  const messageId = fields.get('id');
  const state = fields.get('stat')?.toUpperCase();
  if (messageId === undefined || state === undefined) return undefined;
  const receipt: DeliveryReceipt = { messageId, state };
  const error = fields.get('err');
  if (error !== undefined) receipt.error = error;
  const submitted = receiptDate(fields.get('submitdate'));
  if (submitted !== undefined) receipt.submitted = submitted;
  const done = receiptDate(fields.get('donedate'));
  if (done !== undefined) receipt.done = done;
  return receipt;
}

/**
 * `YYMMDDhhmm` or `YYMMDDhhmmss` → UTC ms (years 2000–2099). The receipt carries no zone; most
 * SMSCs use UTC or their local time, which we cannot know. Not a real date: undefined.
 */
function receiptDate(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?$/.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? '0')) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(2000 + year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  return Date.UTC(2000 + year, month - 1, day, hour, minute, second);
}

/**
 * A receipt from the deliver_sm's TLVs (SMPP 3.4 prefers them: they are typed, the text is
 * vendor-specific), each missing or unusable TLV filled from the text. The dates exist only in
 * the text. undefined when neither gives an id and a known state.
 */
export function receiptFromTlvs(
  tlvs: { receiptedMessageId?: string; messageState?: number; networkErrorCode?: Buffer },
  text?: string,
): DeliveryReceipt | undefined {
  const parsed = text === undefined ? undefined : parseReceiptText(text);
  // The TLV is a C-string; some SMSCs pad it.
  const tlvId = tlvs.receiptedMessageId?.replace(/\0+$/, '').trim();
  const messageId = tlvId || parsed?.messageId;
  const state = (tlvs.messageState === undefined ? undefined : messageStateName(tlvs.messageState)) ?? parsed?.state;
  if (messageId === undefined || state === undefined) return undefined;
  const receipt: DeliveryReceipt = { messageId, state };
  const error = networkError(tlvs.networkErrorCode) ?? parsed?.error;
  if (error !== undefined) receipt.error = error;
  if (parsed?.submitted !== undefined) receipt.submitted = parsed.submitted;
  if (parsed?.done !== undefined) receipt.done = parsed.done;
  return receipt;
}

/** network_error_code is 3 octets: the network type, then a 2-octet code; written like the text's 3-digit `err`. */
function networkError(tlv: Buffer | undefined): string | undefined {
  if (tlv === undefined || tlv.length !== 3) return undefined;
  return String(tlv.readUInt16BE(1)).padStart(3, '0');
}

export interface ReceiptStatus {
  status: 'submitted' | 'delivered' | 'undeliverable' | 'rejected';
  /** Whether the SMSC will report nothing more on this message (part). */
  final: boolean;
}

const RECEIPT_STATUSES: Readonly<Record<string, ReceiptStatus>> = {
  SCHEDULED: { status: 'submitted', final: false },
  ENROUTE: { status: 'submitted', final: false },
  // The spec says "manually read by customer service"; aggregators use it for "accepted by the operator, not yet delivered".
  ACCEPTD: { status: 'submitted', final: false },
  // Non-standard intermediate states (Kannel maps them to "buffered").
  ACKED: { status: 'submitted', final: false },
  BUFFRED: { status: 'submitted', final: false },
  BUFFERD: { status: 'submitted', final: false },
  DELIVRD: { status: 'delivered', final: true },
  EXPIRED: { status: 'undeliverable', final: true },
  DELETED: { status: 'undeliverable', final: true },
  UNDELIV: { status: 'undeliverable', final: true },
  UNKNOWN: { status: 'undeliverable', final: true },
  SKIPPED: { status: 'undeliverable', final: true },
  REJECTD: { status: 'rejected', final: true },
};

/**
 * The common status of a receipt state (§4.3, §4.7). A state outside the table (a vendor's own
 * word) is taken as `submitted`, not final: a failure, once stored, can never be undone (a
 * later DELIVRD would no longer apply), while a message that hears nothing final is made
 * `undeliverable` at its deadline anyway. So an unknown word costs at worst a later failover,
 * never a wrong one.
 */
export function statusOfReceiptState(state: string): ReceiptStatus {
  return RECEIPT_STATUSES[state.trim().toUpperCase()] ?? { status: 'submitted', final: false };
}

/** Longer ids are not SMPP message ids (C-string ≤ 65 octets): matched exactly, not converted. */
const MAX_CONVERTIBLE_ID = 65;

/**
 * The forms of a receipt's id to look its message up by: the id itself first, then (SMSCs mix
 * hex and decimal between submit_sm_resp and the receipt, §4.2) its decimal value read as hex
 * and its hex value read as decimal, hex in both cases. Converted forms never carry leading
 * zeros, so "00FF" and "FF" find the same message; an all-digit id is both a decimal and a hex
 * number, so both readings are offered.
 */
export function referenceCandidates(id: string): string[] {
  const exact = id.trim();
  if (exact === '') return [];
  const candidates = [exact];
  if (exact.length <= MAX_CONVERTIBLE_ID) {
    if (/^[0-9]+$/.test(exact)) {
      const value = BigInt(exact);
      candidates.push(value.toString(10), value.toString(16), value.toString(16).toUpperCase());
    }
    if (/^[0-9a-f]+$/i.test(exact)) {
      const value = BigInt(`0x${exact}`);
      candidates.push(value.toString(16), value.toString(16).toUpperCase(), value.toString(10));
    }
  }
  return [...new Set(candidates)];
}

/**
 * The Nexmo error (reference nexmo-api.md §2.7) for a receipt that reports a failure; undefined
 * for any other. The reason is fixed text naming the SMPP state, never the SMSC's words: the
 * receipt's text holds part of the user's message. §2.7 has no "rejected by the network" or
 * "not delivered, cause unknown" code, so all but EXPIRED use 1330 Unknown (carrier) rather
 * than claiming a cause (spam, barring, a bad number) the receipt does not state.
 */
export function receiptError(receipt: DeliveryReceipt): MessageError | undefined {
  const state = receipt.state.trim().toUpperCase();
  switch (state) {
    case 'EXPIRED':
      // The validity period ran out before the handset could be reached: almost always a phone
      // that stayed off or out of coverage, which a later resend may reach.
      return { code: 1180, reason: 'Absent subscriber - temporary: the validity period expired (EXPIRED)' };
    case 'UNDELIV':
      return { code: 1330, reason: 'Unknown (carrier): the network could not deliver the message (UNDELIV)' };
    case 'REJECTD':
      return { code: 1330, reason: 'Unknown (carrier): the network rejected the message (REJECTD)' };
    case 'DELETED':
      return { code: 1330, reason: 'Unknown (carrier): the SMSC deleted the message (DELETED)' };
    case 'UNKNOWN':
      return { code: 1330, reason: 'Unknown (carrier): the SMSC reports an unknown state (UNKNOWN)' };
    case 'SKIPPED':
      return { code: 1330, reason: 'Unknown (carrier): the SMSC did not transmit the message (SKIPPED)' };
    default:
      return undefined;
  }
}
