import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasValidTwilioSignature, twilioSignature } from './twilio-signature.js';

// Twilio's own example (TwilioDevEd/api-snippets, security/signature_validation).
const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const params = new URLSearchParams({ CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' });

test("the signature of Twilio's documented example", () => {
  assert.equal(twilioSignature('12345', url, params), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
});

test('a signature is valid only for its token, URL and parameters', () => {
  assert.equal(hasValidTwilioSignature('12345', url, params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), true);
  assert.equal(hasValidTwilioSignature('54321', url, params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), false);
  assert.equal(hasValidTwilioSignature('12345', `${url}&baz=3`, params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), false);
  assert.equal(hasValidTwilioSignature('12345', url, new URLSearchParams({ ...Object.fromEntries(params), Digits: '1235' }), 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), false);
  assert.equal(hasValidTwilioSignature('12345', url, params, undefined), false);
});
