// A fake SMSC (SMPP 3.4 server) for integration tests, on top of the `smpp` package's server.
// Built only from the protocol reference (channels.md §4), never from our adapter, so that a
// misunderstanding of the protocol in the adapter is not copied into the fake.
import type { EventEmitter } from 'node:events';
import type { AddressInfo, Server, Socket } from 'node:net';
import smppModule from 'smpp';

export interface SmscSubmit {
  /** Which TCP session sent it (1, 2, … in connection order): shows resends after a reconnect. */
  sessionId: number;
  sequenceNumber: number;
  source: string;
  sourceTon: number;
  sourceNpi: number;
  destination: string;
  destTon: number;
  destNpi: number;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  /** The raw user data header, length octet included (e.g. 05 00 03 ref total seq). */
  udh?: Buffer;
  /** Concatenation info from the UDH (8- or 16-bit reference IE) or from the sar_* TLVs. */
  concat?: { ref: number; total: number; seq: number };
  /** The text as the smpp library decodes it (UDH stripped; message_payload used when sm_length is 0). */
  text: string;
  /** short_message exactly as sent (or the message_payload TLV when sm_length is 0), UDH included. */
  shortMessageBytes?: Buffer;
  /** The id given in submit_sm_resp, in the format it was given; absent when rejected or unanswered. */
  messageId?: string;
  /** command_status answered; -1 while held (never answered). */
  status: number;
  /** now() when it arrived. */
  at: number;
}

export type ReceiptStat = 'DELIVRD' | 'UNDELIV' | 'EXPIRED' | 'REJECTD' | 'ENROUTE' | 'ACCEPTD' | 'DELETED' | 'UNKNOWN';
export type IdFormat = 'decimal' | 'hex';

export interface FakeSmscOptions {
  systemId: string;
  password: string;
  /** How submit_sm_resp writes message_id; default decimal. */
  idFormat?: IdFormat;
  /** After each accepted submit that asked for a receipt (registered_delivery), send one with this stat. */
  autoReceipt?: false | 'DELIVRD' | 'UNDELIV';
  receiptDelayMs?: number;
  /** Clock for receipt dates; default Date.now. */
  now?: () => number;
}

export interface SmscBind {
  systemId: string;
  accepted: boolean;
  interfaceVersion: number;
  command: string;
  sessionId: number;
}

// --- The slice of the untyped `smpp` package this fake relies on (reference §4.6). ---
interface SmppPdu {
  command: string;
  command_status: number;
  sequence_number: number;
  [field: string]: unknown;
  response(options?: Record<string, unknown>): SmppPdu;
  isResponse(): boolean;
}
interface SmppSession extends EventEmitter {
  socket: Socket;
  send(pdu: SmppPdu, onResponse?: (response: SmppPdu) => void): boolean;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
}
interface SmppServer extends Server {
  sessions: SmppSession[];
}
interface SmppLibrary {
  createServer(listener: (session: SmppSession) => void): SmppServer;
  PDU: new (command: string, options?: Record<string, unknown>) => SmppPdu;
  encodings: { detect(text: string): string | false };
}
const smpp = smppModule as SmppLibrary;

const ESME_ROK = 0x00;
const ESME_RINVCMDID = 0x03;
const ESME_RINVBNDSTS = 0x04;
const ESME_RALYBND = 0x05;
const ESME_RBINDFAIL = 0x0d;
const ESM_CLASS_MC_DELIVERY_RECEIPT = 0x04;
const ESM_CLASS_UDHI = 0x40;
const TLV_MESSAGE_PAYLOAD = 0x0424;
const HELD = -1;
const firstMessageId = 1_000_000_001;

const messageStates: Record<ReceiptStat, number> = {
  ENROUTE: 1,
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
};

type BindCommand = 'bind_transceiver' | 'bind_transmitter' | 'bind_receiver';

interface SessionState {
  id: number;
  session: SmppSession;
  bound: BindCommand | undefined;
  closed: boolean;
}

interface IssuedId {
  numeric: number;
  format: IdFormat;
  submit: SmscSubmit;
  session: SessionState;
}

/** A deliver_sm the SMSC owes the ESME; like a real SMSC it waits for a receiver bind and re-sends after a drop. */
interface OwedDelivery {
  fields: Record<string, unknown>;
  preferred: SessionState | undefined;
  inFlightOn: SessionState | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

type Planned = { kind: 'status'; status: number } | { kind: 'hold' };

function formatId(id: number, format: IdFormat): string {
  return format === 'hex' ? id.toString(16) : String(id);
}

/** SMPP receipt date YYMMDDhhmm (UTC). */
function receiptDate(ms: number): string {
  const date = new Date(ms);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${two(date.getUTCFullYear() % 100)}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}`;
}

/** Walks a raw submit_sm to its short_message (or message_payload TLV when sm_length is 0). */
function rawShortMessage(raw: Buffer): Buffer | undefined {
  let offset = 16;
  const skipCString = () => {
    const end = raw.indexOf(0, offset);
    if (end < 0) throw new RangeError('unterminated C-string');
    offset = end + 1;
  };
  try {
    skipCString(); // service_type
    offset += 2; // source ton, npi
    skipCString(); // source_addr
    offset += 2; // dest ton, npi
    skipCString(); // destination_addr
    offset += 3; // esm_class, protocol_id, priority_flag
    skipCString(); // schedule_delivery_time
    skipCString(); // validity_period
    offset += 4; // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
    const smLength = raw[offset];
    if (smLength === undefined) return undefined;
    offset += 1;
    const shortMessage = raw.subarray(offset, offset + smLength);
    offset += smLength;
    if (smLength > 0) return shortMessage;
    while (offset + 4 <= raw.length) {
      const tag = raw.readUInt16BE(offset);
      const length = raw.readUInt16BE(offset + 2);
      if (tag === TLV_MESSAGE_PAYLOAD) return raw.subarray(offset + 4, offset + 4 + length);
      offset += 4 + length;
    }
    return shortMessage;
  } catch {
    return undefined;
  }
}

function concatFromIes(ies: Buffer[]): SmscSubmit['concat'] {
  for (const ie of ies) {
    if (ie[0] === 0x00 && ie[1] === 3 && ie.length >= 5) return { ref: ie[2]!, total: ie[3]!, seq: ie[4]! };
    if (ie[0] === 0x08 && ie[1] === 4 && ie.length >= 6) return { ref: ie.readUInt16BE(2), total: ie[4]!, seq: ie[5]! };
  }
  return undefined;
}

/** Splits a UDH (length octet first) into its information elements. */
function udhIes(udh: Buffer): Buffer[] {
  const ies: Buffer[] = [];
  for (let cursor = 1; cursor + 1 < udh.length; ) {
    const end = cursor + 2 + udh[cursor + 1]!;
    ies.push(udh.subarray(cursor, end));
    cursor = end;
  }
  return ies;
}

function decodedText(value: unknown): string | undefined {
  const message = typeof value === 'object' && value !== null && !Buffer.isBuffer(value) ? (value as { message?: unknown }).message : value;
  if (typeof message === 'string') return message;
  // Encodings the library does not know (e.g. 8-bit binary) stay bytes.
  if (Buffer.isBuffer(message)) return message.toString('latin1');
  return undefined;
}

function numberField(pdu: SmppPdu, field: string): number {
  const value = pdu[field];
  return typeof value === 'number' ? value : 0;
}

function stringField(pdu: SmppPdu, field: string): string {
  const value = pdu[field];
  return typeof value === 'string' ? value : '';
}

export class FakeSmsc {
  readonly submits: SmscSubmit[] = [];
  readonly binds: SmscBind[] = [];

  private enquireLinkCount = 0;
  private nextSessionId = 1;
  private nextMessageId = firstMessageId;
  private closed = false;
  private readonly sessions = new Set<SessionState>();
  private readonly issued = new Map<string, IssuedId>();
  private readonly planned: Planned[] = [];
  private readonly owed: OwedDelivery[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => number;

  private constructor(
    private readonly server: SmppServer,
    private readonly options: FakeSmscOptions,
    readonly port: number,
  ) {
    this.now = options.now ?? Date.now;
  }

  static async start(options: FakeSmscOptions): Promise<FakeSmsc> {
    let fake: FakeSmsc | undefined;
    // Connections cannot arrive before listen() resolved, so `fake` is always set here.
    const server = smpp.createServer((session) => fake?.accept(session));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    fake = new FakeSmsc(server, options, (server.address() as AddressInfo).port);
    return fake;
  }

  /** enquire_link PDUs received. */
  get enquireLinks(): number {
    return this.enquireLinkCount;
  }

  /** The next `times` submits are answered with this command_status (and no message_id). */
  respondNext(status: number, times = 1): void {
    for (let i = 0; i < times; i++) this.planned.push({ kind: 'status', status });
  }

  /** The next `times` submits get no submit_sm_resp at all. Shares one queue with respondNext, in call order. */
  holdNext(times = 1): void {
    for (let i = 0; i < times; i++) this.planned.push({ kind: 'hold' });
  }

  /** Destroys every live session's socket, as if the SMSC or the network dropped mid-run. */
  dropConnections(): void {
    for (const state of this.sessions) state.session.destroy();
  }

  /**
   * Sends a delivery receipt (deliver_sm, esm_class MC_DELIVERY_RECEIPT) for an id we gave in a
   * submit_sm_resp; resolves when the ESME's deliver_sm_resp arrives. If no receiver is bound it
   * waits for one, and it re-sends after a drop, like a real SMSC. The text writes the id in
   * `idInText` (default: the format it was issued in); `receipted_message_id` carries it as issued.
   */
  sendReceipt(
    messageId: string,
    stat: ReceiptStat,
    options: { tlv?: boolean; idInText?: IdFormat; err?: string } = {},
  ): Promise<void> {
    const issued = this.issued.get(messageId);
    const idInText = issued ? formatId(issued.numeric, options.idInText ?? issued.format) : messageId;
    const err = options.err ?? '000';
    const excerpt = (issued?.submit.text ?? '').slice(0, 20).replace(/[^\x20-\x7e]/g, '?');
    const submittedAt = issued?.submit.at ?? this.now();
    const text =
      `id:${idInText} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:${receiptDate(submittedAt)} ` +
      `done date:${receiptDate(this.now())} stat:${stat} err:${err} text:${excerpt}`;
    const submit = issued?.submit;
    const fields: Record<string, unknown> = {
      // A receipt travels back from the handset: addresses swap.
      source_addr_ton: submit?.destTon ?? 1,
      source_addr_npi: submit?.destNpi ?? 1,
      source_addr: submit?.destination ?? '',
      dest_addr_ton: submit?.sourceTon ?? 0,
      dest_addr_npi: submit?.sourceNpi ?? 0,
      destination_addr: submit?.source ?? '',
      esm_class: ESM_CLASS_MC_DELIVERY_RECEIPT,
      data_coding: 0,
      short_message: text,
    };
    if (options.tlv ?? true) {
      fields.receipted_message_id = messageId;
      fields.message_state = messageStates[stat];
      const errCode = Number.parseInt(err, 10);
      // network_error_code: type 3 (GSM) + 2-byte code.
      if (Number.isFinite(errCode) && errCode !== 0) fields.network_error_code = Buffer.from([3, (errCode >> 8) & 0xff, errCode & 0xff]);
    }
    return this.owe(fields, issued?.session);
  }

  /** Sends a mobile-originated message (deliver_sm, esm_class 0); resolves on deliver_sm_resp. */
  mobileOriginated(from: string, to: string, text: string): Promise<void> {
    const gsm = smpp.encodings.detect(text) === 'ASCII';
    // One PDU only: short_message holds at most 254 octets.
    if (gsm ? text.length > 254 : text.length > 127) return Promise.reject(new RangeError('FakeSmsc: MO text too long for one deliver_sm'));
    return this.owe(
      {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: from,
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: to,
        esm_class: 0,
        data_coding: gsm ? 0 : 8,
        short_message: text,
      },
      undefined,
    );
  }

  /** Resolves with the first `count` submits once that many arrived. */
  async waitForSubmits(count: number, timeoutMs = 5000): Promise<SmscSubmit[]> {
    await this.waitFor(() => this.submits.length >= count, timeoutMs, () => `${count} submit_sm (got ${this.submits.length})`);
    return this.submits.slice(0, count);
  }

  /** Resolves once `count` binds were accepted in total (so after a drop, wait for previous + 1). */
  waitForBinds(count: number, timeoutMs = 5000): Promise<void> {
    const accepted = () => this.binds.filter((bind) => bind.accepted).length;
    return this.waitFor(() => accepted() >= count, timeoutMs, () => `${count} accepted binds (got ${accepted()})`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('FakeSmsc closed'));
    }
    this.waiters.clear();
    for (const delivery of this.owed.splice(0)) delivery.reject(new Error('FakeSmsc closed'));
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropConnections();
    await serverClosed;
  }

  private accept(session: SmppSession): void {
    if (this.closed) {
      session.destroy();
      return;
    }
    const state: SessionState = { id: this.nextSessionId++, session, bound: undefined, closed: false };
    this.sessions.add(state);

    // The library decodes short_message and throws the bytes away; tee what it reads so each
    // 'pdu' event can be paired with its raw bytes (only this socket is touched, not the library).
    const socket = session.socket;
    const read = socket.read.bind(socket);
    let consumed: Buffer[] = [];
    socket.read = ((size?: number) => {
      const chunk: unknown = read(size);
      if (Buffer.isBuffer(chunk)) consumed.push(chunk);
      return chunk;
    }) as typeof socket.read;

    session.on('pdu', (pdu: SmppPdu) => {
      const raw = Buffer.concat(consumed);
      consumed = [];
      this.onPdu(state, pdu, raw);
    });
    // Resets from the client side are expected in these tests; without a listener they would throw.
    session.on('error', () => {});
    session.on('close', () => this.onClose(state));
  }

  private onPdu(state: SessionState, pdu: SmppPdu, raw: Buffer): void {
    // Responses (deliver_sm_resp, …) are matched to their callbacks by the library.
    if (pdu.isResponse()) return;
    switch (pdu.command) {
      case 'bind_transceiver':
      case 'bind_transmitter':
      case 'bind_receiver':
        this.onBind(state, pdu, pdu.command);
        return;
      case 'enquire_link':
        this.enquireLinkCount++;
        state.session.send(pdu.response());
        return;
      case 'unbind':
        state.bound = undefined;
        state.session.send(pdu.response());
        state.session.close();
        return;
      case 'submit_sm':
        this.onSubmit(state, pdu, raw);
        return;
      default:
        // 'unknown' becomes generic_nack inside response(); everything else is simply not offered.
        state.session.send(pdu.command === 'unknown' ? pdu.response() : pdu.response({ command_status: ESME_RINVCMDID }));
    }
  }

  private onBind(state: SessionState, pdu: SmppPdu, command: BindCommand): void {
    const systemId = stringField(pdu, 'system_id');
    const credentialsOk = systemId === this.options.systemId && stringField(pdu, 'password') === this.options.password;
    const accepted = credentialsOk && state.bound === undefined;
    this.binds.push({ systemId, accepted, interfaceVersion: numberField(pdu, 'interface_version'), command, sessionId: state.id });
    if (!credentialsOk) {
      state.session.send(pdu.response({ command_status: ESME_RBINDFAIL }));
      state.session.close();
    } else if (!accepted) {
      state.session.send(pdu.response({ command_status: ESME_RALYBND }));
    } else {
      state.bound = command;
      state.session.send(pdu.response({ system_id: 'FAKESMSC' }));
      this.pumpOwed();
    }
    this.wake();
  }

  private onSubmit(state: SessionState, pdu: SmppPdu, raw: Buffer): void {
    const submit = this.describeSubmit(state, pdu, raw);
    this.submits.push(submit);
    const canSubmit = state.bound === 'bind_transceiver' || state.bound === 'bind_transmitter';
    const plan: Planned | undefined = canSubmit ? this.planned.shift() : { kind: 'status', status: ESME_RINVBNDSTS };

    if (plan?.kind === 'hold') {
      submit.status = HELD;
    } else if (plan !== undefined && plan.status !== ESME_ROK) {
      submit.status = plan.status;
      state.session.send(pdu.response({ command_status: plan.status }));
    } else {
      const numeric = this.nextMessageId++;
      const format = this.options.idFormat ?? 'decimal';
      const messageId = formatId(numeric, format);
      submit.status = ESME_ROK;
      submit.messageId = messageId;
      this.issued.set(messageId, { numeric, format, submit, session: state });
      state.session.send(pdu.response({ message_id: messageId }));
      this.scheduleAutoReceipt(submit, messageId);
    }
    this.wake();
  }

  private describeSubmit(state: SessionState, pdu: SmppPdu, raw: Buffer): SmscSubmit {
    const esmClass = numberField(pdu, 'esm_class');
    const bytes = rawShortMessage(raw);
    const submit: SmscSubmit = {
      sessionId: state.id,
      sequenceNumber: pdu.sequence_number,
      source: stringField(pdu, 'source_addr'),
      sourceTon: numberField(pdu, 'source_addr_ton'),
      sourceNpi: numberField(pdu, 'source_addr_npi'),
      destination: stringField(pdu, 'destination_addr'),
      destTon: numberField(pdu, 'dest_addr_ton'),
      destNpi: numberField(pdu, 'dest_addr_npi'),
      dataCoding: numberField(pdu, 'data_coding'),
      esmClass,
      registeredDelivery: numberField(pdu, 'registered_delivery'),
      text: decodedText(pdu.short_message) || decodedText(pdu.message_payload) || '',
      status: HELD,
      at: this.now(),
    };
    if (bytes) submit.shortMessageBytes = Buffer.from(bytes);

    if (esmClass & ESM_CLASS_UDHI) {
      if (bytes && bytes.length > 0) {
        submit.udh = Buffer.from(bytes.subarray(0, bytes[0]! + 1));
      } else {
        // Raw bytes unavailable: rebuild the UDH from the library's IE list.
        const ies = (pdu.short_message as { udh?: Buffer[] } | undefined)?.udh ?? [];
        const body = Buffer.concat(ies);
        submit.udh = Buffer.concat([Buffer.from([body.length]), body]);
      }
      const concat = concatFromIes(udhIes(submit.udh));
      if (concat) submit.concat = concat;
    }
    const sarRef = pdu.sar_msg_ref_num;
    const sarTotal = pdu.sar_total_segments;
    const sarSeq = pdu.sar_segment_seqnum;
    if (!submit.concat && typeof sarRef === 'number' && typeof sarTotal === 'number' && typeof sarSeq === 'number') {
      submit.concat = { ref: sarRef, total: sarTotal, seq: sarSeq };
    }
    return submit;
  }

  private scheduleAutoReceipt(submit: SmscSubmit, messageId: string): void {
    const stat = this.options.autoReceipt;
    if (!stat) return;
    // registered_delivery bits 0–1: 1 = receipt on success or failure, 2 = on failure only.
    const wanted = submit.registeredDelivery & 0x03;
    if (wanted === 0 || (wanted === 2 && stat === 'DELIVRD')) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.sendReceipt(messageId, stat).catch(() => {
        // Only fails when the fake closes first or the ESME nacks it; tests assert on their own terms.
      });
    }, this.options.receiptDelayMs ?? 0);
    this.timers.add(timer);
  }

  private owe(fields: Record<string, unknown>, preferred: SessionState | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new Error('FakeSmsc closed'));
    return new Promise<void>((resolve, reject) => {
      this.owed.push({ fields, preferred, inFlightOn: undefined, resolve, reject });
      this.pumpOwed();
    });
  }

  /** Sends every owed deliver_sm that is not in flight to a session bound to receive. */
  private pumpOwed(): void {
    const canReceive = (state: SessionState | undefined) =>
      state !== undefined && !state.closed && (state.bound === 'bind_transceiver' || state.bound === 'bind_receiver');
    const anyReceiver = [...this.sessions].find(canReceive);
    for (const delivery of this.owed) {
      if (delivery.inFlightOn) continue;
      const target = canReceive(delivery.preferred) ? delivery.preferred : anyReceiver;
      if (!target) continue;
      const pdu = new smpp.PDU('deliver_sm', { ...delivery.fields });
      const sent = target.session.send(pdu, (response) => {
        if (delivery.inFlightOn !== target) return;
        this.owed.splice(this.owed.indexOf(delivery), 1);
        if (response.command_status === ESME_ROK) delivery.resolve();
        else delivery.reject(new Error(`deliver_sm_resp command_status 0x${response.command_status.toString(16)}`));
      });
      if (sent) delivery.inFlightOn = target;
    }
  }

  private onClose(state: SessionState): void {
    state.closed = true;
    state.bound = undefined;
    this.sessions.delete(state);
    if (this.closed) return;
    // The ESME never acknowledged these; a real SMSC re-sends them on the next bind.
    for (const delivery of this.owed) if (delivery.inFlightOn === state) delivery.inFlightOn = undefined;
    this.pumpOwed();
  }

  private waitFor(ready: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        ready,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`FakeSmsc: timed out after ${timeoutMs} ms waiting for ${describe()}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters) {
      if (!waiter.ready()) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }
}
