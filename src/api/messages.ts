import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validateOutboundMessage } from '../core/message-rules.js';
import { isoTimestamp } from '../core/webhook-payloads.js';
import type { MessageView } from '../engine/use-cases/index.js';
import type { Authenticator } from './authenticate.js';
import { invalidParams, unknownId } from './problem.js';
import type { Services } from './services.js';

export function registerMessageRoutes(app: FastifyInstance, services: Services, auth: Authenticator): void {
  const { useCases } = services;
  const authenticate = (request: FastifyRequest) => auth.jwtOrBasic(request);

  /** Messages v0.1 send: validated, stored with its send job in one transaction, then 202. */
  app.post('/v0.1/messages', { onRequest: authenticate }, async (request, reply) => {
    const validation = validateOutboundMessage(request.body);
    if (!validation.ok) throw invalidParams(validation.errors);
    const messageUuid = await useCases.acceptMessage(request.caller, validation.value);
    return reply.code(202).send({ message_uuid: messageUuid });
  });

  /** An extension Nexmo lacked: the message with its status history, send attempts and webhook deliveries. */
  app.get<{ Params: { uuid: string } }>('/v0.1/messages/:uuid', { onRequest: authenticate }, async (request) => {
    const view = await useCases.lookUpMessage(request.caller, request.params.uuid);
    if (!view) throw unknownId('Message', request.params.uuid);
    return messageResource(view);
  });
}

/** A JWT sees its application's messages; Basic auth sees every message of the account. */
function messageResource({ message, events, attempts, webhooks }: MessageView) {
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
    // Every try to hand it to a provider, so a retry (or a provider switch) shows.
    attempts: attempts.map((attempt) => ({
      attempt: attempt.attempt,
      provider: attempt.provider,
      timestamp: isoTimestamp(attempt.at),
      outcome: attempt.outcome,
      ...(attempt.error && { error: attempt.error }),
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
