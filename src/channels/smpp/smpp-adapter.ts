import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { MessageError } from '../../core/message-status.js';
import { wholeMessageRef } from '../../core/message-parts.js';
import type { ChannelAdapter, ProviderReport, ProviderSink, SendFailure, SendRequest, SendResult } from '../channel-adapter.js';
import { classifyCommandStatus } from './command-status.js';
import { receiptError, receiptFromTlvs, statusOfReceiptState } from './delivery-receipt.js';
import { ReceiptIdForm } from './receipt-id-form.js';
import { type BindSettings, type ReceivedPdu, SmppBind } from './smpp-bind.js';
import { encodeSms, type EncodedSms, type SmsPart } from './sms-encoding.js';

export interface SmppSettings extends Omit<BindSettings, 'window'> {
  window: number;
  binds: number;
}

/** deliver_sm's esm_class bits 2–5: 0x04 is an SMSC delivery receipt (reference §4.2). */
const RECEIPT_TYPE_MASK = 0x3c;
const DELIVERY_RECEIPT = 0x04;
/** What a deliver_sm gets when we could not record it: the SMSC sends it again later (reference §4.3). */
const ESME_RX_T_APPN = 0x64;
/** registered_delivery 1: a receipt on success and on failure. */
const RECEIPT_ON_SUCCESS_OR_FAILURE = 1;

/** Tries of one throttled part after the first, within one send. */
const MAX_PART_TRIES = 3;

const failed = (failure: SendFailure): SendResult => ({ ok: false, failure });
const communicationFailure = (reason: string): SendFailure => ({ retryable: true, error: { code: 1100, reason: `Communication failed: ${reason}` } });

/**
 * SMS over SMPP 3.4 (channels reference §4) with the `smpp` package: `binds` transceiver binds
 * kept up by SmppBind, each with its window of submits. A text goes as GSM-7 when it can, else
 * UCS-2, in concatenated parts when it is long: one message with one status, its parts'
 * receipts combined by the intake (core/message-parts.ts). Receipts and mobile-originated
 * messages arrive as deliver_sm and are answered once recorded, so an SMSC whose deliver_sm was
 * not answered sends it again.
 */
export class SmppAdapter implements ChannelAdapter {
  readonly type = 'smpp';
  private readonly binds: SmppBind[];
  private sink: ProviderSink | undefined;
  /** How this SMSC writes ids, learnt from its answers (hex or decimal). */
  private readonly receiptIds = new ReceiptIdForm();
  /** The UDH reference of the next concatenated message: any value works as long as neighbours differ. */
  private nextReference = Math.floor(Math.random() * 256);

  constructor(
    readonly provider: string,
    settings: SmppSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly sendTimeoutMs: number,
  ) {
    const bindLog = log.child({ provider });
    this.binds = Array.from(
      { length: settings.binds },
      () => new SmppBind(settings, (level, fields, message) => bindLog[level](fields, message)),
    );
  }

  async start(sink: ProviderSink): Promise<void> {
    this.sink = sink;
    for (const bind of this.binds) {
      bind.on('deliver_sm', (pdu: ReceivedPdu, session: unknown) => void this.delivered(bind, pdu, session));
      // The start does not wait for the SMSC: messages wait for a bind instead (send), so an SMSC
      // that is down at start-up delays SMS, not the whole server.
      bind.open();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.binds.map((bind) => bind.close()));
  }

  async send(request: SendRequest): Promise<SendResult> {
    const { content } = request.message;
    if (content.type !== 'text' || content.text === undefined) return failed({ retryable: false, error: { code: 1020, reason: 'Invalid params: SMS carries text only' } });
    let encoded: EncodedSms;
    try {
      encoded = encodeSms(content.text, this.takeReference());
    } catch {
      return failed({ retryable: false, error: { code: 1090, reason: 'Message too long: the text needs more parts than an SMS may have' } });
    }
    // Every part must be answered before the engine's own deadline for the send (sends.timeout_ms), or
    // the engine would take the send as failed while parts still go out.
    const deadline = this.clockless() + Math.max(1000, this.sendTimeoutMs - 2000);
    const partRefs: string[] = [];
    for (const [index, part] of encoded.parts.entries()) {
      // The engine paced the message; an SMSC counts every PDU against the rate.
      if (index > 0) await request.pace?.();
      const submitted = await this.submitPart(request, encoded.dataCoding, part, deadline);
      if (!submitted.ok) return failed(submitted.failure);
      partRefs.push(submitted.messageId);
    }
    if (partRefs.length === 1) return { ok: true, providerRef: partRefs[0]! };
    return { ok: true, providerRef: wholeMessageRef(partRefs), partRefs };
  }

  /**
   * One part, on the bind with most room. A part after the first that the SMSC throttles waits
   * and goes again (within the deadline) rather than failing the message: a retry of the whole
   * message would send the parts before it twice.
   */
  private async submitPart(request: SendRequest, dataCoding: number, part: SmsPart, deadline: number): Promise<{ ok: true; messageId: string } | { ok: false; failure: SendFailure }> {
    for (let tries = 1; ; tries += 1) {
      const bind = await this.bindWithRoom(deadline);
      if (!bind) return { ok: false, failure: communicationFailure('no bind to the SMSC is up') };
      const answer = await bind.submit(
        {
          ...addressFields(request.from.number ?? '', request.to.number ?? ''),
          registered_delivery: RECEIPT_ON_SUCCESS_OR_FAILURE,
          data_coding: dataCoding,
          short_message: part.udh ? { udh: part.udh, message: part.payload } : part.payload,
        },
        deadline - this.clockless(),
      );
      // Parts already accepted go out again with the whole message on the next try: at-least-once.
      if (answer.kind === 'lost') return { ok: false, failure: communicationFailure(answer.reason) };
      const outcome = classifyCommandStatus(answer.status);
      if (outcome.kind === 'ok') {
        if (answer.messageId !== undefined) {
          this.receiptIds.observe(answer.messageId);
          return { ok: true, messageId: answer.messageId };
        }
        return { ok: false, failure: { retryable: true, error: { code: 1331, reason: 'Provider error: the SMSC accepted the submit without a message_id' } } };
      }
      if (outcome.kind === 'permanent') return { ok: false, failure: { retryable: false, error: outcome.error } };
      if (outcome.kind === 'rebind') {
        bind.rebind('the SMSC answered a submit with ESME_RINVBNDSTS');
        return { ok: false, failure: { retryable: true, error: outcome.error } };
      }
      const pause = outcome.retryAfterMs ?? 1000;
      const isLaterPart = part.udh !== undefined && part.udh[part.udh.length - 1]! > 1;
      if (!isLaterPart || tries >= MAX_PART_TRIES || this.clockless() + pause >= deadline) {
        return { ok: false, failure: { retryable: true, error: outcome.error, ...(outcome.retryAfterMs !== undefined && { retryAfterMs: outcome.retryAfterMs }) } };
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** The bound bind with the most room, waiting (until the deadline) for one. */
  private async bindWithRoom(deadline: number): Promise<SmppBind | undefined> {
    for (;;) {
      const best = this.binds.reduce<SmppBind | undefined>((chosen, bind) => (bind.room > (chosen?.room ?? 0) ? bind : chosen), undefined);
      if (best) return best;
      const left = deadline - this.clockless();
      if (left <= 0) return undefined;
      await Promise.race([...this.binds.map((bind) => bind.slotOrBind()), new Promise((resolve) => setTimeout(resolve, Math.min(left, 1000)))]);
    }
  }

  private async delivered(bind: SmppBind, pdu: ReceivedPdu, session: unknown): Promise<void> {
    const sink = this.sink;
    if (!sink) return bind.respond(pdu, ESME_RX_T_APPN, session);
    try {
      const esmClass = typeof pdu.esm_class === 'number' ? pdu.esm_class : 0;
      if ((esmClass & RECEIPT_TYPE_MASK) === DELIVERY_RECEIPT) await this.receipt(sink, pdu);
      else await this.mobileOriginated(sink, pdu);
      bind.respond(pdu, 0, session);
    } catch (error) {
      this.log.warn({ provider: this.provider, error: error instanceof Error ? error.message : String(error) }, 'a deliver_sm could not be recorded; the SMSC will send it again');
      bind.respond(pdu, ESME_RX_T_APPN, session);
    }
  }

  private async receipt(sink: ProviderSink, pdu: ReceivedPdu): Promise<void> {
    const receiptedMessageId = typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id : undefined;
    const receipt = receiptFromTlvs(
      {
        receiptedMessageId,
        messageState: typeof pdu.message_state === 'number' ? pdu.message_state : undefined,
        networkErrorCode: Buffer.isBuffer(pdu.network_error_code) ? pdu.network_error_code : undefined,
      },
      textOf(pdu.short_message) ?? textOf(pdu.message_payload),
    );
    if (!receipt) {
      this.log.warn({ provider: this.provider }, 'a delivery receipt without an id or a state was answered and dropped');
      return;
    }
    const { status, final } = statusOfReceiptState(receipt.state);
    // En route, accepted, buffered: nothing our message does not say already.
    if (!final) return;
    const error: MessageError | undefined = receiptError(receipt);
    const report: ProviderReport = { status, at: this.clock.now(), ...(error && { error }) };
    const fromTlv = receiptedMessageId !== undefined && receiptedMessageId.replace(/\0+$/, '').trim() !== '';
    const { ref, alternates } = this.receiptIds.referenceOf(receipt.messageId, fromTlv ? 'tlv' : 'text');
    await sink.receipt(ref, report, alternates);
  }

  private async mobileOriginated(sink: ProviderSink, pdu: ReceivedPdu): Promise<void> {
    const from = typeof pdu.source_addr === 'string' ? pdu.source_addr : '';
    const to = typeof pdu.destination_addr === 'string' ? pdu.destination_addr : '';
    const text = textOf(pdu.short_message) ?? textOf(pdu.message_payload) ?? '';
    if (from === '' || to === '') return;
    await sink.inbound({ channel: 'sms', to: { type: 'sms', number: to }, from: { type: 'sms', number: from }, message: { content: { type: 'text', text } }, at: this.clock.now() });
  }

  private takeReference(): number {
    this.nextReference = (this.nextReference + 1) % 256;
    return this.nextReference;
  }

  /** Deadlines of a send are real time (a socket does not follow the virtual clock). */
  private clockless(): number {
    return performance.now();
  }
}

/**
 * TON/NPI from the address (reference §4.2): an alphanumeric sender is TON 5 / NPI 0; numbers
 * are international E.164 without the "+", TON 1 / NPI 1.
 */
function addressFields(from: string, to: string): Record<string, unknown> {
  const alphanumeric = /[^0-9+]/.test(from);
  return {
    source_addr_ton: alphanumeric ? 5 : 1,
    source_addr_npi: alphanumeric ? 0 : 1,
    source_addr: alphanumeric ? from : from.replace(/^\+/, ''),
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: to.replace(/^\+/, ''),
  };
}

/** A decoded short_message is `{ message }` (reference §4.6); some SMSCs put the text in message_payload. */
function textOf(shortMessage: unknown): string | undefined {
  if (typeof shortMessage === 'string') return shortMessage;
  if (typeof shortMessage === 'object' && shortMessage !== null && typeof (shortMessage as { message?: unknown }).message === 'string') return (shortMessage as { message: string }).message;
  return undefined;
}
