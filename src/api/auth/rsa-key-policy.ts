import type { KeyObject } from 'node:crypto';

/**
 * The RSA public keys applications may have (on create, update, and when a stored key verifies
 * a JWT): 2048 to 4096 bits, public exponent 65537. Verifying costs grow with the exponent and
 * the modulus, and every JWT naming an application pays for its key, bogus tokens included: one
 * 3 064-bit exponent made each check 5.6 ms on the shared main thread.
 */
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 4096;
const PUBLIC_EXPONENT = 65537n;

/** Undefined when the key may be used; otherwise what is wrong with it, for the payload error. */
export function rsaKeyProblem(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType !== 'rsa') return 'must be an RSA key';
  const { modulusLength = 0, publicExponent } = key.asymmetricKeyDetails ?? {};
  if (modulusLength < MIN_RSA_BITS || modulusLength > MAX_RSA_BITS) return `must be an RSA key of ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits`;
  if (publicExponent !== PUBLIC_EXPONENT) return 'must be an RSA key with the public exponent 65537';
  return undefined;
}
