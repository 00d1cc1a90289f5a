import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isChannel, type Address, type Channel } from '../core/channel.js';
import { isFailure } from '../core/message-status.js';
import { valid, invalid, type InvalidParameter, type Validation } from '../core/validation.js';
import { inboundMessagePayload, isoTimestamp } from '../core/webhook-payloads.js';
import { parseRecipientScript, recipientScriptJson } from '../channels/sandbox/recipient-script.js';
import { pendingReceiptsKey } from '../channels/channel-adapter.js';
import type { HandsetMessageRecord, MessageRecord } from '../store/records.js';
import type { Authenticator } from './authenticate.js';
import { Problem, invalidParams, notFound } from './problem.js';
import type { Services } from './services.js';
import { accountTargets, applicationTargets } from './webhook-targets.js';

const SANDBOX_ERRORS = 'https://developer.nexmo.com/api-errors/sandbox';

/** The simulated phone network of DESIGN §4: script recipients, look at handsets, reply, move time. */
export function registerSandboxRoutes(app: FastifyInstance, services: Services, auth: Authenticator): void {
  const { store, clock, sandbox, intake, advanceClock } = services;
  const authenticate = (request: FastifyRequest) => auth.basicOnly(request);

  app.put<{ Params: { channel: string; address: string } }>('/sandbox/recipients/:channel/:address', { onRequest: authenticate }, async (request) => {
    const channel = channelParam(request.params.channel);
    const script = parseRecipientScript(request.body);
    if (!script.ok) throw invalidParams(script.errors);
    if ((channel === 'sms' || channel === 'mms') && script.value.kind === 'deliver' && script.value.readAfter !== undefined) {
      throw invalidParams([{ name: 'read_after', reason: `${channel} has no read receipts` }]);
    }
    // Stored and echoed in the wire form with defaults filled in (e.g. a reject's reason).
    const normalized = recipientScriptJson(script.value);
    await store.putRecipientScript(request.caller.apiKey, channel, request.params.address, normalized, clock.now());
    return { channel, address: request.params.address, script: normalized };
  });

  app.get<{ Params: { channel: string; address: string } }>('/sandbox/recipients/:channel/:address', { onRequest: authenticate }, async (request) => {
    const channel = channelParam(request.params.channel);
    const script = await sandbox.scriptFor(request.caller.apiKey, channel, request.params.address);
    return { channel, address: request.params.address, script: recipientScriptJson(script) };
  });

  app.get<{ Querystring: { channel?: string; to?: string; limit?: string } }>('/sandbox/messages', { onRequest: authenticate }, async (request) => {
    const repeated = Object.entries(request.query).filter(([, value]) => Array.isArray(value));
    if (repeated.length > 0) throw invalidParams(repeated.map(([name]) => ({ name, reason: 'must be given once' })));
    const { channel, to, limit } = request.query;
    const filterChannel = channel === undefined || channel === '' ? undefined : channelParam(channel);
    const count = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw invalidParams([{ name: 'limit', reason: 'must be an integer from 1 to 1000' }]);
    const received = await store.listHandsetMessages(request.caller.apiKey, { channel: filterChannel, to: to || undefined, limit: count });
    const messages = await Promise.all(received.map(async (handset) => handsetResource(handset, await store.findMessage(handset.messageUuid))));
    return { messages };
  });

  app.post<{ Params: { uuid: string } }>('/sandbox/messages/:uuid/read', { onRequest: authenticate }, async (request) => {
    const handset = await store.findHandsetMessage(request.params.uuid);
    const message = handset && handset.apiKey === request.caller.apiKey ? await store.findMessage(handset.messageUuid) : undefined;
    if (!handset || !message) throw notFound(`No sandbox handset received a message '${request.params.uuid}'`);
    if (isFailure(message.status)) {
      throw new Problem(409, `${SANDBOX_ERRORS}#not-readable`, 'Conflict', `The message is ${message.status}; it cannot be read.`);
    }
    if (message.status !== 'read') {
      const at = clock.now();
      // Reading implies delivery; scripted receipts still pending would only arrive stale.
      const reports = message.status === 'delivered' ? [] : [{ status: 'delivered' as const, at }];
      await intake.record(message.uuid, [...reports, { status: 'read', at }], {
        cancelJobKeys: [pendingReceiptsKey(message.uuid)],
        handsetReads: [{ messageUuid: message.uuid, readAt: at }],
      });
    }
    return handsetResource((await store.findHandsetMessage(handset.messageUuid))!, await store.findMessage(message.uuid));
  });

  app.post('/sandbox/inbound', { onRequest: authenticate }, async (request, reply) => {
    const parsed = parseInbound(request.body);
    if (!parsed.ok) throw invalidParams(parsed.errors);
    const { channel, from, to, text } = parsed.value;
    const apiKey = request.caller.apiKey;
    const business = inboundAddresses(channel, to, from);
    // A reply goes to the application that last wrote to this user from this address.
    const conversation = await store.findLatestConversation(apiKey, channel, to, from);
    const application = conversation?.applicationId ? await store.findApplication(conversation.applicationId) : undefined;
    const account = await store.findAccount(apiKey);
    const inboundUrl = (application && applicationTargets(application).inboundUrl) ?? (account && accountTargets(account).inboundUrl);
    if (!inboundUrl) {
      throw new Problem(422, `${SANDBOX_ERRORS}#no-inbound-url`, 'Unprocessable Entity', 'No inbound_url to deliver this reply to: send to this user from an application with a messages inbound_url first, or set the account default.');
    }
    const now = clock.now();
    const record: MessageRecord = {
      uuid: randomUUID(),
      apiKey,
      applicationId: application?.id,
      direction: 'inbound',
      channel,
      to: business.to,
      from: business.from,
      message: { content: { type: 'text', text } },
      status: 'delivered',
      createdAt: now,
      updatedAt: now,
    };
    const body = inboundMessagePayload({ messageUuid: record.uuid, to: record.to, from: record.from, at: now, message: record.message });
    await store.commit({
      messages: [record],
      webhooks: [
        { id: randomUUID(), apiKey, applicationId: application?.id, kind: 'inbound-message', url: inboundUrl, body: JSON.stringify(body), messageUuid: record.uuid, state: 'pending', attempts: 0, createdAt: now },
      ],
    });
    return reply.code(202).send({ message_uuid: record.uuid });
  });

  app.get('/sandbox/clock', { onRequest: authenticate }, async () => ({ clock: clock.kind, now: isoTimestamp(clock.now()) }));

  app.post('/sandbox/clock/advance', { onRequest: authenticate }, async (request) => {
    if (!advanceClock) {
      throw new Problem(409, `${SANDBOX_ERRORS}#real-clock`, 'Conflict', 'The server runs on the real clock; start it with --clock virtual to advance time.');
    }
    const seconds = (request.body as { seconds?: unknown } | undefined)?.seconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > 10 * 365 * 86400) {
      throw invalidParams([{ name: 'seconds', reason: 'must be a number of seconds from 0 to 315360000' }]);
    }
    return { clock: clock.kind, now: isoTimestamp(await advanceClock(Math.round(seconds * 1000))) };
  });
}

function channelParam(value: string): Channel {
  if (!isChannel(value)) throw invalidParams([{ name: 'channel', reason: 'must be one of sms, mms, whatsapp, messenger, viber_service_msg' }]);
  return value;
}

function handsetResource(handset: HandsetMessageRecord, message: MessageRecord | undefined) {
  return {
    message_uuid: handset.messageUuid,
    channel: handset.channel,
    to: handset.to,
    from: handset.from,
    message: handset.message,
    received_at: isoTimestamp(handset.receivedAt),
    status: message?.status,
    ...(handset.readAt !== undefined && { read_at: isoTimestamp(handset.readAt) }),
    times_received: handset.timesReceived ?? 1,
  };
}

interface InboundRequest {
  channel: Channel;
  from: string;
  to: string;
  text: string;
}

function parseInbound(body: unknown): Validation<InboundRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid([{ name: 'body', reason: 'must be a JSON object' }]);
  const fields = body as Record<string, unknown>;
  const errors: InvalidParameter[] = [];
  if (!isChannel(fields.channel)) errors.push({ name: 'channel', reason: 'must be one of sms, mms, whatsapp, messenger, viber_service_msg' });
  const party = (name: 'from' | 'to'): string => {
    const value = typeof fields[name] === 'number' && Number.isSafeInteger(fields[name]) ? String(fields[name]) : fields[name];
    if (typeof value !== 'string' || value.length < 1 || value.length > 50) errors.push({ name, reason: 'must be a string of 1 to 50 characters' });
    return String(value);
  };
  const from = party('from');
  const to = party('to');
  if (typeof fields.text !== 'string' || fields.text.length < 1 || fields.text.length > 4096) errors.push({ name: 'text', reason: 'must be a string of 1 to 4096 characters' });
  return errors.length > 0 ? invalid(errors) : valid({ channel: fields.channel as Channel, from, to, text: fields.text as string });
}

/** Inbound addresses per channel: Messenger ids both ways; Viber's service has an id, its user a number. */
function inboundAddresses(channel: Channel, business: string, user: string): { to: Address; from: Address } {
  switch (channel) {
    case 'messenger':
      return { to: { type: channel, id: business }, from: { type: channel, id: user } };
    case 'viber_service_msg':
      return { to: { type: channel, id: business }, from: { type: channel, number: user } };
    default:
      return { to: { type: channel, number: business }, from: { type: channel, number: user } };
  }
}
