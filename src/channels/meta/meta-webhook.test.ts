import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import type { ProviderWebhookRequest } from '../channel-adapter.js';
import { answerVerification, hasValidSignature } from './meta-webhook.js';

const get = (query: Record<string, string>): ProviderWebhookRequest => ({ method: 'GET', search: '', headers: {}, query, rawBody: Buffer.alloc(0) });
const post = (body: string, signature?: string): ProviderWebhookRequest => ({ method: 'POST', search: '', headers: { 'x-hub-signature-256': signature }, query: {}, rawBody: Buffer.from(body) });

test('the verification handshake answers the challenge only to our verify token', () => {
  assert.deepEqual(answerVerification(get({ 'hub.mode': 'subscribe', 'hub.verify_token': 'v3rify', 'hub.challenge': '1158201444' }), 'v3rify'), {
    status: 200,
    body: '1158201444',
    contentType: 'text/plain; charset=utf-8',
    events: [],
  });
  assert.equal(answerVerification(get({ 'hub.mode': 'subscribe', 'hub.verify_token': 'wrong', 'hub.challenge': '1' }), 'v3rify').status, 403);
  assert.equal(answerVerification(get({ 'hub.mode': 'unsubscribe', 'hub.verify_token': 'v3rify', 'hub.challenge': '1' }), 'v3rify').status, 403);
  assert.equal(answerVerification(get({ 'hub.challenge': '1' }), 'v3rify').status, 403);
  // A challenge that is not Meta's shape is not echoed.
  assert.equal(answerVerification(get({ 'hub.mode': 'subscribe', 'hub.verify_token': 'v3rify', 'hub.challenge': '<script>' }), 'v3rify').status, 400);
});

test('the signature is an HMAC-SHA256 of the exact bytes by the app secret', () => {
  const body = '{"object":"page","entry":[]}';
  const signature = `sha256=${createHmac('sha256', 'app-secret').update(body).digest('hex')}`;
  assert.equal(hasValidSignature(post(body, signature), 'app-secret'), true);
  assert.equal(hasValidSignature(post(body, signature), 'other-secret'), false);
  assert.equal(hasValidSignature(post(`${body} `, signature), 'app-secret'), false, 'one byte more');
  assert.equal(hasValidSignature(post(body), 'app-secret'), false, 'missing');
  assert.equal(hasValidSignature(post(body, signature.replace('sha256=', 'sha1=')), 'app-secret'), false);
  assert.equal(hasValidSignature(post(body, 'sha256=abc'), 'app-secret'), false, 'short');
});
