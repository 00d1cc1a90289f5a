import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';

/**
 * Vonage's signed callbacks (DESIGN §4 `vonage-sms`): every parameter but `sig`, sorted by name,
 * as `&name=value` with `&` and `=` in values replaced by `_`; `md5hash` is the MD5 of that
 * string followed by the signature secret, the others an HMAC of it keyed by the secret. Hex,
 * compared without regard to case.
 */
export function vonageSignature(method: SignatureMethod, secret: string, params: ReadonlyMap<string, string>): string {
  let signed = '';
  for (const name of [...params.keys()].filter((key) => key !== 'sig').sort()) signed += `&${name}=${params.get(name)!.replace(/[&=]/g, '_')}`;
  if (method === 'md5hash') return createHash('md5').update(signed + secret, 'utf8').digest('hex');
  return createHmac(method, secret).update(signed, 'utf8').digest('hex');
}

export function hasValidVonageSignature(method: SignatureMethod, secret: string, params: ReadonlyMap<string, string>): boolean {
  const given = params.get('sig');
  if (given === undefined) return false;
  const expected = Buffer.from(vonageSignature(method, secret, params).toLowerCase());
  const received = Buffer.from(given.toLowerCase());
  return received.length === expected.length && timingSafeEqual(received, expected);
}
