import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { addressValue, CHANNELS } from '../../core/channel.js';
import type { Clock } from '../../core/clock.js';
import type { MessageBody } from '../../core/message.js';
import type { MessageError } from '../../core/message-status.js';
import { timeOrderedUuid } from '../../core/time-ordered-uuid.js';
import type {
  ChannelAdapter,
  DueFollowUp,
  FollowUp,
  ProviderEvent,
  ProviderSink,
  SendRequest,
  SendResult,
} from '../channel-adapter.js';
import { invalid, valid, type Validation } from '../../core/validation.js';
import { parseOutage, type ProviderOutage, type ProviderOutages } from './provider-outages.js';
import { failsTransiently, parseRecipientScript, plannedReceipts, recipientScriptJson, type RecipientScript } from './recipient-script.js';
import type { HandsetFilter, HandsetMessage, HandsetPage, RecipientKey, SandboxState } from './sandbox-state.js';

export interface SandboxOptions {
  /** The provider instance's name ("sandbox" in the laptop default). */
  provider: string;
  state: SandboxState;
  clock: Clock;
  defaultDeliveredAfterSeconds: number;
  /** Shared by every sandbox provider of the server. */
  outages: ProviderOutages;
}

export type ReadOutcome = { kind: 'read'; handset: HandsetMessage } | { kind: 'unknown' } | { kind: 'not-readable'; status: 'undeliverable' };

/** A scripted transient failure looks like a provider answering 503 (reference §2.7: 1331 Provider error). */
const transientError = (attempt: number, count: number): MessageError => ({
  code: 1331,
  reason: `Provider error: the sandbox answered 503 (scripted transient failure ${attempt} of ${count})`,
});

/**
 * The built-in phone network, an ordinary adapter: recipients behave as scripted per account,
 * channel and address. A send answers at once with a reference of its own and, as data, what
 * the network will do later: the message reaching the handset, then its scripted receipts.
 * The engine commits those follow-ups with the submission and hands each back when it comes due;
 * the receipts it reports then enter the same intake as any provider's.
 */
export class SandboxNetwork implements ChannelAdapter {
  readonly type = 'sandbox';
  readonly provider: string;
  private readonly state: SandboxState;
  private readonly clock: Clock;
  private readonly defaultDeliveredAfterSeconds: number;
  private readonly outages: ProviderOutages;
  private sink: ProviderSink | undefined;

  constructor(options: SandboxOptions) {
    this.provider = options.provider;
    this.state = options.state;
    this.clock = options.clock;
    this.defaultDeliveredAfterSeconds = options.defaultDeliveredAfterSeconds;
    this.outages = options.outages;
  }

  async start(sink: ProviderSink): Promise<void> {
    this.sink = sink;
  }

  async close(): Promise<void> {
    await this.state.close();
  }

  async send(request: SendRequest): Promise<SendResult> {
    const outage = this.outages.get(request.apiKey, this.provider);
    if (outage) {
      const error = { code: 1331, reason: `Provider error: the sandbox provider ${this.provider} answered 503 (scripted outage)` };
      return { ok: false, failure: { retryable: true, error, ...(outage.retryAfterSeconds !== undefined && { retryAfterMs: outage.retryAfterSeconds * 1000 }) } };
    }
    const script = await this.scriptFor({ apiKey: request.apiKey, channel: request.channel, address: addressValue(request.to) });
    if (failsTransiently(script, request.attempt)) {
      const { count, retryAfterSeconds } = script.transient!;
      return {
        ok: false,
        failure: { retryable: true, error: transientError(request.attempt, count), ...(retryAfterSeconds !== undefined && { retryAfterMs: retryAfterSeconds * 1000 }) },
      };
    }
    if (script.kind === 'reject') return { ok: false, failure: { retryable: false, error: script.error } };
    // A reference of its own, as any provider's: time-ordered, so the reference index stays warm.
    return { ok: true, providerRef: `sandbox-${timeOrderedUuid(this.clock.wallNow(), randomUUID())}`, followUps: this.networkPlan(request, script) };
  }

  /**
   * The arrival on the handset at once, then each scripted receipt; what happens at one instant
   * is one follow-up. Tries whose answer the gateway lost reached the handset too, so they count.
   */
  private networkPlan(request: SendRequest, script: RecipientScript): FollowUp[] {
    const arrival: ArrivalEvent = {
      messageUuid: request.messageUuid,
      apiKey: request.apiKey,
      channel: request.channel,
      to: request.to,
      from: request.from,
      message: request.message,
      timesReceived: 1 + request.unansweredAttempts,
    };
    const byInstant = new Map<number, NetworkEvent>([[0, { arrival, statuses: [] }]]);
    for (const receipt of plannedReceipts(script, this.defaultDeliveredAfterSeconds)) {
      const event = byInstant.get(receipt.afterMs) ?? { statuses: [] };
      event.statuses.push({ status: receipt.status, ...(receipt.error && { error: receipt.error }) });
      byInstant.set(receipt.afterMs, event);
    }
    return [...byInstant].sort(([a], [b]) => a - b).map(([afterMs, event]) => ({ afterMs, event }));
  }

  async followUp(due: DueFollowUp): Promise<ProviderEvent[]> {
    const parsed = networkEventSchema.safeParse(due.event);
    if (!parsed.success) throw new TypeError(`not a sandbox follow-up: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const { arrival, statuses } = parsed.data;
    if (arrival) await this.state.recordArrival({ ...arrival, providerRef: due.providerRef, receivedAt: due.at });
    const events: ProviderEvent[] = [];
    for (const { status, error } of statuses) {
      if (status === 'delivered') await this.state.markDelivered(due.providerRef, due.at);
      if (status === 'read') await this.state.markRead(due.providerRef, due.at);
      // A message read by hand before its scripted failure came due does not fail any more.
      if (status === 'undeliverable' && !(await this.state.markUndeliverable(due.providerRef, due.at))) continue;
      // Reported even when a manual read got there first: the intake records each status once.
      events.push({ type: 'receipt', providerRef: due.providerRef, report: { status, at: due.at, ...(error && { error }) } });
    }
    return events;
  }

  // The sandbox API's own operations (src/api/sandbox.ts).

  /** Scripts (or lifts) an outage of a sandbox provider, for one account's messages. */
  scriptOutage(apiKey: string, provider: string, body: unknown): Validation<ProviderOutage | undefined> {
    const outage = parseOutage(body);
    if (outage.ok) this.outages.set(apiKey, provider, outage.value);
    return outage;
  }

  /** Parses the script for this recipient and stores it in its wire form, defaults filled in (echoed back). */
  async putScript(scope: RecipientKey, body: unknown): Promise<Validation<Record<string, unknown>>> {
    const script = parseRecipientScript(body);
    if (!script.ok) return script;
    if ((scope.channel === 'sms' || scope.channel === 'mms') && script.value.kind === 'deliver' && script.value.readAfter !== undefined) {
      return invalid([{ name: 'read_after', reason: `${scope.channel} has no read receipts` }]);
    }
    const normalized = recipientScriptJson(script.value);
    await this.state.putScript(scope, normalized, this.clock.wallNow());
    return valid(normalized);
  }

  /** The recipient's script, or the network's default for an unscripted one. */
  async scriptFor(scope: RecipientKey): Promise<RecipientScript> {
    const stored = await this.state.findScript(scope);
    const parsed = stored === undefined ? undefined : parseRecipientScript(stored);
    if (parsed?.ok) return parsed.value;
    return { kind: 'deliver', deliveredAfter: this.defaultDeliveredAfterSeconds };
  }

  listHandsetMessages(apiKey: string, filter: HandsetFilter, page: HandsetPage): Promise<{ items: HandsetMessage[]; next?: string }> {
    return this.state.listHandsetMessages(apiKey, filter, page);
  }

  /** Whether `cursor` can be the `next` of a page (to refuse a mangled one with a 400). */
  isHandsetCursor(cursor: string): boolean {
    return this.state.isCursor(cursor);
  }

  /**
   * The recipient reads the message now. Reported first and marked after, so a crash between the
   * two loses nothing (a second read reports again and the intake drops what it has).
   */
  async read(apiKey: string, messageUuid: string): Promise<ReadOutcome> {
    const handset = await this.state.findHandsetMessage(apiKey, messageUuid);
    if (!handset) return { kind: 'unknown' };
    if (handset.undeliverableAt !== undefined) return { kind: 'not-readable', status: 'undeliverable' };
    if (handset.readAt === undefined) {
      const at = this.clock.now();
      const sink = this.sinkOrFail();
      if (handset.deliveredAt === undefined) await sink.receipt(handset.providerRef, { status: 'delivered', at });
      await sink.receipt(handset.providerRef, { status: 'read', at });
      await this.state.markRead(handset.providerRef, at);
    }
    return { kind: 'read', handset: (await this.state.findHandsetMessage(apiKey, messageUuid)) ?? handset };
  }

  private sinkOrFail(): ProviderSink {
    if (!this.sink) throw new Error('the sandbox network has not been started');
    return this.sink;
  }
}

/** What the network does at one instant after a submission (the engine stores it as JSON). */
interface NetworkEvent {
  arrival?: ArrivalEvent;
  statuses: Array<{ status: 'delivered' | 'read' | 'undeliverable'; error?: MessageError }>;
}

type ArrivalEvent = z.infer<typeof arrivalSchema>;

const addressSchema = z.object({ type: z.enum(CHANNELS), number: z.string().optional(), id: z.string().optional() });
const arrivalSchema = z.object({
  messageUuid: z.string(),
  apiKey: z.string(),
  channel: z.enum(CHANNELS),
  to: addressSchema,
  from: addressSchema,
  // Validated when it was accepted; here only its shape as an object is checked.
  message: z.custom<MessageBody>((value) => typeof value === 'object' && value !== null && 'content' in value),
  timesReceived: z.number().int().min(1),
});
const networkEventSchema = z.object({
  arrival: arrivalSchema.optional(),
  statuses: z.array(
    z.object({
      status: z.enum(['delivered', 'read', 'undeliverable']),
      // Follow-ups converted from the receipts of older versions carry `error: null`.
      error: z.object({ code: z.number(), reason: z.string() }).nullish().transform((error) => error ?? undefined),
    }),
  ),
});
