import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ProviderWebhookAnswer, ProviderWebhookRequest } from '../channel-adapter.js';

/**
 * What Meta's platforms (Messenger, WhatsApp Cloud API) share about their callbacks (channels
 * reference §1.5): the `GET` verification handshake and the `X-Hub-Signature-256` HMAC over the
 * exact bytes of the body, keyed by the app secret.
 */

/** Meta sends a number; anything much longer or stranger is not Meta, and is not echoed. */
const CHALLENGE = /^[A-Za-z0-9_.-]{1,128}$/;

/** The handshake: the challenge back as the body when the mode and our verify token match, else 403. */
export function answerVerification(request: ProviderWebhookRequest, verifyToken: string): ProviderWebhookAnswer {
  const { 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge } = request.query;
  if (mode !== 'subscribe' || token === undefined || !sameText(token, verifyToken)) return { status: 403, events: [] };
  if (challenge === undefined || !CHALLENGE.test(challenge)) return { status: 400, events: [] };
  return { status: 200, body: challenge, contentType: 'text/plain; charset=utf-8', events: [] };
}

/** Whether the body carries a valid `sha256=` signature by the app secret. */
export function hasValidSignature(request: ProviderWebhookRequest, appSecret: string): boolean {
  const header = request.headers['x-hub-signature-256'];
  if (header === undefined || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', appSecret).update(request.rawBody).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The answer to a callback whose signature is missing or forged: nothing it says is taken. */
export const UNSIGNED: ProviderWebhookAnswer = { status: 401, body: 'invalid signature', contentType: 'text/plain; charset=utf-8', events: [] };

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
