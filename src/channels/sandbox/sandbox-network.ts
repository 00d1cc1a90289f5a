import { addressValue, type Channel } from '../../core/channel.js';
import type { Clock } from '../../engine/clock.js';
import type { Store } from '../../store/store.js';
import { pendingReceiptsKey, type ChannelAdapter, type SendRequest, type SendResult } from '../channel-adapter.js';
import { parseRecipientScript, plannedReceipts, type RecipientScript } from './recipient-script.js';

export const SANDBOX_RECEIPT_JOB = 'sandbox.receipt';

/** Job payload of a receipt the simulated network sends back later. */
export interface SandboxReceiptPayload {
  [key: string]: unknown;
  messageUuid: string;
  channel: Channel;
  status: 'delivered' | 'read' | 'undeliverable';
  error?: { code: number; reason: string };
  /** When the receipt happens (ms, scripted from submission); kept when the job is retried. */
  at?: number;
}


/**
 * The built-in phone network: recipients behave as scripted per account, channel and address.
 * A sent message lands on the recipient's handset and its receipts are scheduled as durable
 * jobs in the same transaction, so they survive a crash and follow the (possibly virtual) clock.
 */
export class SandboxNetwork implements ChannelAdapter {
  readonly provider = 'sandbox';

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly defaultDeliveredAfterSeconds: number,
  ) {}

  async send(request: SendRequest): Promise<SendResult> {
    const script = await this.scriptFor(request.apiKey, request.channel, addressValue(request.to));
    if (script.kind === 'reject') return { ok: false, failure: { retryable: false, error: script.error } };

    const now = this.clock.now();
    await this.store.commit({
      handsetMessages: [
        { messageUuid: request.messageUuid, apiKey: request.apiKey, channel: request.channel, to: request.to, from: request.from, message: request.message, receivedAt: now },
      ],
      jobs: plannedReceipts(script).map((receipt) => ({
        kind: SANDBOX_RECEIPT_JOB,
        key: pendingReceiptsKey(request.messageUuid),
        dueAt: now + receipt.afterMs,
        payload: {
          messageUuid: request.messageUuid,
          channel: request.channel,
          status: receipt.status,
          ...(receipt.error && { error: receipt.error }),
          at: now + receipt.afterMs,
        } satisfies SandboxReceiptPayload,
      })),
    });
    return { ok: true, providerRef: request.messageUuid };
  }

  async scriptFor(apiKey: string, channel: Channel, address: string): Promise<RecipientScript> {
    const stored = await this.store.findRecipientScript(apiKey, channel, address);
    const parsed = stored === undefined ? undefined : parseRecipientScript(stored);
    if (parsed?.ok) return parsed.value;
    return { kind: 'deliver', deliveredAfter: this.defaultDeliveredAfterSeconds };
  }
}
