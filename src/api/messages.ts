import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validateOutboundMessage } from '../core/message-rules.js';
import { isoTimestamp } from '../core/webhook-payloads.js';
import { sendMessageJob } from '../engine/jobs/send-message-job.js';
import type { MessageEventRecord, MessageRecord, WebhookRecord } from '../store/records.js';
import { canSee, type Authenticator } from './authenticate.js';
import { invalidParams, notFound } from './problem.js';
import type { Services } from './services.js';

export function registerMessageRoutes(app: FastifyInstance, services: Services, auth: Authenticator): void {
  const { store, clock } = services;
  const authenticate = (request: FastifyRequest) => auth.jwtOrBasic(request);

  /** Messages v0.1 send: validated, stored with its send job in one transaction, then 202. */
  app.post('/v0.1/messages', { onRequest: authenticate }, async (request, reply) => {
    const validation = validateOutboundMessage(request.body);
    if (!validation.ok) throw invalidParams(validation.errors);
    const { to, from, message, client_ref } = validation.value;
    const now = clock.now();
    const record: MessageRecord = {
      uuid: randomUUID(),
      apiKey: request.caller.apiKey,
      applicationId: request.caller.applicationId,
      direction: 'outbound',
      channel: to.type,
      to,
      from,
      message,
      clientRef: client_ref,
      status: 'queued',
      statusUrl: request.caller.targets.statusUrl,
      createdAt: now,
      updatedAt: now,
    };
    await store.commit({ messages: [record], jobs: [sendMessageJob(record.uuid, now)] });
    return reply.code(202).send({ message_uuid: record.uuid });
  });

  /** An extension Nexmo lacked: the message with its status history and webhook deliveries. */
  app.get<{ Params: { uuid: string } }>('/v0.1/messages/:uuid', { onRequest: authenticate }, async (request) => {
    const message = await store.findMessage(request.params.uuid);
    if (!message || !canSee(request.caller, message)) throw notFound(`Message '${request.params.uuid}' does not exist, or you do not have access`);
    const [events, webhooks] = await Promise.all([store.listMessageEvents(message.uuid), store.listWebhooksForMessage(message.uuid)]);
    return messageResource(message, events, webhooks);
  });
}

/** A JWT sees its application's messages; Basic auth sees every message of the account. */
function messageResource(message: MessageRecord, events: MessageEventRecord[], webhooks: WebhookRecord[]) {
  return {
    message_uuid: message.uuid,
    direction: message.direction,
    channel: message.channel,
    to: message.to,
    from: message.from,
    message: message.message,
    ...(message.clientRef !== undefined && { client_ref: message.clientRef }),
    status: message.status === 'queued' ? 'accepted' : message.status,
    timestamp: isoTimestamp(message.createdAt),
    ...(message.error && { error: message.error }),
    ...(message.usage && { usage: message.usage }),
    ...(message.dispatchUuid && { dispatch_uuid: message.dispatchUuid }),
    history: events.map((event) => ({
      status: event.status,
      timestamp: isoTimestamp(event.at),
      ...(event.error && { error: event.error }),
      ...(event.usage && { usage: event.usage }),
    })),
    webhooks: webhooks.map((webhook) => ({
      id: webhook.id,
      kind: webhook.kind,
      url: webhook.url,
      state: webhook.state,
      attempts: webhook.attempts,
    })),
    _links: { self: { href: `/v0.1/messages/${message.uuid}` } },
  };
}
