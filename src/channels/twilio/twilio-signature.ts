import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `X-Twilio-Signature` (channels reference §5.2): base64 of HMAC-SHA1, keyed with the account's
 * Auth Token, over the full URL Twilio called followed by every POST parameter's name and value,
 * sorted by name, without separators.
 */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams): string {
  const names = [...new Set(params.keys())].sort();
  let signed = url;
  // A repeated parameter (MediaUrl) contributes each of its values, in order.
  for (const name of names) for (const value of params.getAll(name)) signed += name + value;
  return createHmac('sha1', authToken).update(signed, 'utf8').digest('base64');
}

export function hasValidTwilioSignature(authToken: string, url: string, params: URLSearchParams, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
