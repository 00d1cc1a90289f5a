/**
 * What a submit_sm_resp's command_status means for the message (reference channels.md §4.4):
 * sent, try again, rebind and try again, or refused for good, with the Nexmo error
 * (nexmo-api.md §2.7) a status webhook reports when it ends the message.
 */
import type { MessageError } from '../../core/message-status.js';

export type CommandStatusClass =
  | { kind: 'ok' }
  | { kind: 'retryable'; error: MessageError; retryAfterMs?: number }
  | { kind: 'rebind'; error: MessageError }
  | { kind: 'permanent'; error: MessageError };

type Kind = 'retryable' | 'rebind' | 'permanent';

interface StatusInfo {
  name: string;
  description: string;
  kind: Kind;
  /** The nearest Nexmo error code. */
  code: number;
  retryAfterMs?: number;
}

/*
 * Nexmo codes, nearest first:
 * 1000 Throttled: the SMSC asks us to slow down (rate, or its queue is full).
 * 1331 Provider error: the SMSC failed or refused for a reason of its own (like the sandbox's 503).
 * 1100 Communication failed: our session with the SMSC is not in a state to submit.
 * 1170 Invalid or missing MSISDN: the destination number itself.
 * 1120 Illegal sender address: the sender ID or its TON/NPI.
 * 1130 Invalid TTL: the validity period we asked for.
 * 1140 Facility not allowed: the account may not use this operation or service type.
 * 1020 Invalid params: any other field of the PDU (lengths, flags, TLVs, data_coding); a bug
 *      or a configuration to fix, which a resend will not.
 * 1330 Unknown (carrier): the SMSC says only "unknown" or "delivery failed".
 */
const ROWS: ReadonlyArray<readonly [status: number, name: string, description: string, kind: Kind, code: number, retryAfterMs?: number]> = [
  [0x01, 'ESME_RINVMSGLEN', 'Invalid message length', 'permanent', 1020],
  [0x02, 'ESME_RINVCMDLEN', 'Invalid command length', 'permanent', 1020],
  [0x03, 'ESME_RINVCMDID', 'Invalid command ID', 'permanent', 1020],
  // The session is not bound for submitting (e.g. the SMSC lost our bind): rebind, then resend.
  [0x04, 'ESME_RINVBNDSTS', 'Incorrect bind status', 'rebind', 1100],
  [0x05, 'ESME_RALYBND', 'Already bound', 'permanent', 1331],
  [0x06, 'ESME_RINVPRTFLG', 'Invalid priority flag', 'permanent', 1020],
  [0x07, 'ESME_RINVREGDLVFLG', 'Invalid registered delivery flag', 'permanent', 1020],
  // Transient per Kannel; the engine's bounded retries are the cap §4.4 asks for.
  [0x08, 'ESME_RSYSERR', 'SMSC system error', 'retryable', 1331],
  [0x0a, 'ESME_RINVSRCADR', 'Invalid source address', 'permanent', 1120],
  [0x0b, 'ESME_RINVDSTADR', 'Invalid destination address', 'permanent', 1170],
  [0x0c, 'ESME_RINVMSGID', 'Invalid message ID', 'permanent', 1020],
  [0x0d, 'ESME_RBINDFAIL', 'Bind failed', 'permanent', 1331],
  [0x0e, 'ESME_RINVPASWD', 'Invalid password', 'permanent', 1331],
  [0x0f, 'ESME_RINVSYSID', 'Invalid system ID', 'permanent', 1331],
  [0x11, 'ESME_RCANCELFAIL', 'Cancel failed', 'permanent', 1331],
  [0x13, 'ESME_RREPLACEFAIL', 'Replace failed', 'permanent', 1331],
  // A full queue drains in seconds, not within one rate window: wait longer than for a throttle.
  [0x14, 'ESME_RMSGQFUL', 'Message queue full', 'retryable', 1000, 5000],
  [0x15, 'ESME_RINVSERTYP', 'Invalid service type', 'permanent', 1020],
  [0x33, 'ESME_RINVNUMDESTS', 'Invalid number of destinations', 'permanent', 1020],
  [0x34, 'ESME_RINVDLNAME', 'Invalid distribution list name', 'permanent', 1020],
  [0x40, 'ESME_RINVDESTFLAG', 'Invalid destination flag', 'permanent', 1020],
  [0x42, 'ESME_RINVSUBREP', 'Invalid submit with replace request', 'permanent', 1020],
  [0x43, 'ESME_RINVESMCLASS', 'Invalid esm_class', 'permanent', 1020],
  [0x44, 'ESME_RCNTSUBDL', 'Cannot submit to distribution list', 'permanent', 1020],
  // Ambiguous (§4.4): permanent unless the operator lists it as retryable.
  [0x45, 'ESME_RSUBMITFAIL', 'Submit failed', 'permanent', 1331],
  [0x48, 'ESME_RINVSRCTON', 'Invalid source address TON', 'permanent', 1120],
  [0x49, 'ESME_RINVSRCNPI', 'Invalid source address NPI', 'permanent', 1120],
  // TON/NPI are fields we set from configuration, not the number the client gave: 1020, not 1170.
  [0x50, 'ESME_RINVDSTTON', 'Invalid destination address TON', 'permanent', 1020],
  [0x51, 'ESME_RINVDSTNPI', 'Invalid destination address NPI', 'permanent', 1020],
  [0x53, 'ESME_RINVSYSTYP', 'Invalid system type', 'permanent', 1020],
  [0x54, 'ESME_RINVREPFLAG', 'Invalid replace_if_present flag', 'permanent', 1020],
  [0x55, 'ESME_RINVNUMMSGS', 'Invalid number of messages', 'permanent', 1020],
  // The SMSC tells us to slow down; it gives no time, so a short pause before the engine's backoff.
  [0x58, 'ESME_RTHROTTLED', 'Throttling error', 'retryable', 1000, 1000],
  [0x61, 'ESME_RINVSCHED', 'Invalid scheduled delivery time', 'permanent', 1020],
  [0x62, 'ESME_RINVEXPIRY', 'Invalid validity period', 'permanent', 1130],
  [0x63, 'ESME_RINVDFTMSGID', 'Invalid predefined message ID', 'permanent', 1020],
  [0x64, 'ESME_RX_T_APPN', 'Receiver temporary application error', 'retryable', 1331],
  [0x65, 'ESME_RX_P_APPN', 'Receiver permanent application error', 'permanent', 1331],
  [0x66, 'ESME_RX_R_APPN', 'Receiver rejected the message', 'permanent', 1331],
  [0x67, 'ESME_RQUERYFAIL', 'Query failed', 'permanent', 1331],
  // SMPP 3.4 names; SMPP 5.0 (and the npm smpp package) call them ESME_RINVTLVSTREAM … ESME_RINVTLVVAL.
  [0xc0, 'ESME_RINVOPTPARSTREAM', 'Invalid TLV stream', 'permanent', 1020],
  [0xc1, 'ESME_ROPTPARNOTALLWD', 'TLV not allowed', 'permanent', 1020],
  [0xc2, 'ESME_RINVPARLEN', 'Invalid TLV length', 'permanent', 1020],
  [0xc3, 'ESME_RMISSINGOPTPARAM', 'Missing TLV', 'permanent', 1020],
  [0xc4, 'ESME_RINVOPTPARAMVAL', 'Invalid TLV value', 'permanent', 1020],
  [0xfe, 'ESME_RDELIVERYFAILURE', 'Delivery failure', 'permanent', 1330],
  // Permanent by default as in Kannel; an operator may list it as retryable (one retry helps on some SMSCs).
  [0xff, 'ESME_RUNKNOWNERR', 'Unknown error', 'permanent', 1330],
  // SMPP 5.0 codes that 3.4 SMSCs also send.
  [0x100, 'ESME_RSERTYPUNAUTH', 'Not authorised to use the service type', 'permanent', 1140],
  [0x101, 'ESME_RPROHIBITED', 'Prohibited from using the operation', 'permanent', 1140],
  [0x102, 'ESME_RSERTYPUNAVAIL', 'Service type unavailable', 'permanent', 1140],
  [0x103, 'ESME_RSERTYPDENIED', 'Service type denied', 'permanent', 1140],
  [0x104, 'ESME_RINVDCS', 'Invalid data coding scheme', 'permanent', 1020],
  [0x105, 'ESME_RINVSRCADDRSUBUNIT', 'Invalid source address subunit', 'permanent', 1020],
  [0x106, 'ESME_RINVDSTADDRSUBUNIT', 'Invalid destination address subunit', 'permanent', 1020],
];

const STATUSES = new Map<number, StatusInfo>(
  ROWS.map(([status, name, description, kind, code, retryAfterMs]) => [
    status,
    retryAfterMs === undefined ? { name, description, kind, code } : { name, description, kind, code, retryAfterMs },
  ]),
);

const ESME_ROK = 0;

/** The SMPP name of a command_status, e.g. ESME_RTHROTTLED; a code outside the table as `0x000000ab`. */
export function commandStatusName(status: number): string {
  const code = status >>> 0;
  if (code === ESME_ROK) return 'ESME_ROK';
  return STATUSES.get(code)?.name ?? hex(code);
}

export interface CommandStatusOptions {
  /** Codes this SMSC uses for temporary faults though §4.4 says permanent (e.g. 0x45 ESME_RSUBMITFAIL, 0xFF ESME_RUNKNOWNERR). */
  alsoRetryable?: readonly number[];
}

/**
 * The class of a submit_sm_resp's command_status. A code outside the table (vendor-specific,
 * 0x400–0x4FF, or unassigned) is permanent, as Kannel takes it: resending what an SMSC refused
 * for a reason we cannot read would only repeat the refusal.
 */
export function classifyCommandStatus(status: number, options: CommandStatusOptions = {}): CommandStatusClass {
  const code = status >>> 0;
  if (code === ESME_ROK) return { kind: 'ok' };
  const info = STATUSES.get(code);
  const error: MessageError = info
    ? { code: info.code, reason: `${info.description} (${info.name})` }
    : { code: 1331, reason: `Provider error: the SMSC answered command_status ${hex(code)}` };
  const listedRetryable = options.alsoRetryable?.some((listed) => listed >>> 0 === code) ?? false;
  // A rebind stays a rebind: resending on a session in the wrong state cannot succeed.
  const kind: Kind = info?.kind === 'rebind' ? 'rebind' : listedRetryable ? 'retryable' : (info?.kind ?? 'permanent');
  if (kind === 'retryable') return info?.retryAfterMs === undefined ? { kind, error } : { kind, error, retryAfterMs: info.retryAfterMs };
  return { kind, error };
}

function hex(code: number): string {
  return `0x${code.toString(16).padStart(8, '0')}`;
}
