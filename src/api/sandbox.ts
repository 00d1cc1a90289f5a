import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recipientScriptJson } from '../channels/sandbox/recipient-script.js';
import type { SandboxNetwork } from '../channels/sandbox/sandbox-network.js';
import { handsetStatus, type HandsetMessage } from '../channels/sandbox/sandbox-state.js';
import { isChannel, type Address, type Channel } from '../core/channel.js';
import { invalid, valid, type InvalidParameter, type Validation } from '../core/validation.js';
import { isoTimestamp } from '../core/webhook-payloads.js';
import type { Authenticator } from './authenticate.js';
import { invalidParams, notFound, problem } from './problem.js';
import type { Services } from './services.js';

/** One answer of `GET /sandbox/messages` holds at most this much message content (plus one message). */
const HANDSET_PAGE_BYTES = 2 * 1024 * 1024;

/**
 * The simulated phone network of DESIGN §4: script recipients, look at handsets, read, reply,
 * move time. These routes drive the network itself, as a provider's own console would: what it
 * reports as a result (a manual read's receipts) enters the gateway through the receipt intake,
 * and a reply through the `acceptInbound` use case.
 */
export function registerSandboxRoutes(app: FastifyInstance, services: Services, auth: Authenticator): void {
  const { sandbox, useCases, clock, advanceClock } = services;
  const authenticate = (request: FastifyRequest) => auth.basicOnly(request);

  app.put<{ Params: { channel: string; address: string } }>('/sandbox/recipients/:channel/:address', { onRequest: authenticate }, async (request) => {
    const channel = channelParam(request.params.channel);
    // Stored and echoed in the wire form with defaults filled in (e.g. a reject's reason).
    const script = await sandbox.putScript({ apiKey: request.caller.apiKey, channel, address: request.params.address }, request.body);
    if (!script.ok) throw invalidParams(script.errors);
    return { channel, address: request.params.address, script: script.value };
  });

  app.get<{ Params: { channel: string; address: string } }>('/sandbox/recipients/:channel/:address', { onRequest: authenticate }, async (request) => {
    const channel = channelParam(request.params.channel);
    const script = await sandbox.scriptFor({ apiKey: request.caller.apiKey, channel, address: request.params.address });
    return { channel, address: request.params.address, script: recipientScriptJson(script) };
  });

  /** A sandbox provider of a route fails every send of this account's messages until lifted: provider failover, watched on a laptop. */
  app.put<{ Params: { provider: string } }>('/sandbox/providers/:provider', { onRequest: authenticate }, async (request) => {
    const { provider } = request.params;
    if (services.providers.byName(provider)?.type !== 'sandbox') throw notFound('No sandbox provider of that name');
    const outage = sandbox.scriptOutage(request.caller.apiKey, provider, request.body);
    if (!outage.ok) throw invalidParams(outage.errors);
    return { provider, failing: outage.value !== undefined, ...(outage.value?.retryAfterSeconds !== undefined && { retry_after: outage.value.retryAfterSeconds }) };
  });

  /** Newest first, paged by count and by size: a `next` link continues where a page stopped. */
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/sandbox/messages', { onRequest: authenticate }, async (request) => {
    const query = parseHandsetQuery(request.query, sandbox);
    if (!query.ok) throw invalidParams(query.errors);
    const { channel, to, limit, after } = query.value;
    const page = await sandbox.listHandsetMessages(request.caller.apiKey, { channel, to }, { limit, maxBytes: HANDSET_PAGE_BYTES, after });
    const next = page.next && `/sandbox/messages?${new URLSearchParams({ ...(channel && { channel }), ...(to && { to }), limit: String(limit), after: page.next })}`;
    return { messages: page.items.map(handsetResource), ...(next && { _links: { next: { href: next } } }) };
  });

  app.post<{ Params: { uuid: string } }>('/sandbox/messages/:uuid/read', { onRequest: authenticate, config: { bodiless: true } }, async (request) => {
    const outcome = await sandbox.read(request.caller.apiKey, request.params.uuid);
    switch (outcome.kind) {
      case 'unknown':
        throw notFound('No sandbox handset received that message');
      case 'not-readable':
        throw problem('sandbox-not-readable', `The message is ${outcome.status}; it cannot be read.`);
      case 'read':
        return handsetResource(outcome.handset);
    }
  });

  app.post('/sandbox/inbound', { onRequest: authenticate }, async (request, reply) => {
    const parsed = parseInbound(request.body);
    if (!parsed.ok) throw invalidParams(parsed.errors);
    const { channel, from, to, text } = parsed.value;
    const outcome = await useCases.acceptInbound(sandbox.provider, {
      ...inboundAddresses(channel, to, from),
      channel,
      message: { content: { type: 'text', text } },
      at: clock.now(),
      apiKey: request.caller.apiKey,
    });
    if (!outcome.accepted) {
      throw problem('sandbox-no-inbound-url', 'No inbound_url to deliver this reply to: send to this user from an application with a messages inbound_url first, or set the account default.');
    }
    return reply.code(202).send({ message_uuid: outcome.messageUuid });
  });

  app.get('/sandbox/clock', { onRequest: authenticate }, async () => ({ clock: clock.kind, now: isoTimestamp(clock.now()) }));

  app.post('/sandbox/clock/advance', { onRequest: authenticate }, async (request) => {
    if (!advanceClock) throw problem('sandbox-real-clock', 'The server runs on the real clock; start it with --clock virtual to advance time.');
    const seconds = (request.body as { seconds?: unknown } | undefined)?.seconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > 10 * 365 * 86400) {
      throw invalidParams([{ name: 'seconds', reason: 'must be a number of seconds from 0 to 315360000' }]);
    }
    return { clock: clock.kind, now: isoTimestamp(await advanceClock(Math.round(seconds * 1000))) };
  });
}

const CHANNEL_REASON = 'must be one of sms, mms, whatsapp, messenger, viber_service_msg';

function channelParam(value: string): Channel {
  if (!isChannel(value)) throw invalidParams([{ name: 'channel', reason: CHANNEL_REASON }]);
  return value;
}

function handsetResource(handset: HandsetMessage) {
  return {
    message_uuid: handset.messageUuid,
    channel: handset.channel,
    to: handset.to,
    from: handset.from,
    message: handset.message,
    received_at: isoTimestamp(handset.receivedAt),
    status: handsetStatus(handset),
    ...(handset.readAt !== undefined && { read_at: isoTimestamp(handset.readAt) }),
    times_received: handset.timesReceived,
  };
}

interface HandsetQuery {
  channel?: Channel;
  to?: string;
  limit: number;
  after?: string;
}

function parseHandsetQuery(query: Record<string, string | string[] | undefined>, sandbox: SandboxNetwork): Validation<HandsetQuery> {
  const errors: InvalidParameter[] = Object.entries(query)
    .filter(([, value]) => Array.isArray(value))
    .map(([name]) => ({ name, reason: 'must be given once' }));
  if (errors.length > 0) return invalid(errors);
  const { channel, to, limit, after } = query as Record<string, string | undefined>;
  if (channel && !isChannel(channel)) errors.push({ name: 'channel', reason: CHANNEL_REASON });
  const count = limit === undefined ? 100 : Number(limit);
  if (!Number.isInteger(count) || count < 1 || count > 1000) errors.push({ name: 'limit', reason: 'must be an integer from 1 to 1000' });
  if (after !== undefined && !sandbox.isHandsetCursor(after)) errors.push({ name: 'after', reason: 'must be the cursor of a next link' });
  if (errors.length > 0) return invalid(errors);
  return valid({ channel: channel ? (channel as Channel) : undefined, to: to || undefined, limit: count, after });
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
  if (!isChannel(fields.channel)) errors.push({ name: 'channel', reason: CHANNEL_REASON });
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
