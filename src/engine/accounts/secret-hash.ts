/**
 * API secrets are stored as scrypt hashes, `scrypt$N$r$p$salt_b64$hash_b64`,
 * so the parameters can be raised later without breaking stored hashes.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** OWASP's scrypt minimum (N=2^14, r=8, p=1): 16 MiB per hash. */
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Upper bound on what a stored hash may ask for, so a corrupt row cannot exhaust memory. */
const MAX_MEMORY_BYTES = 64 * 1024 * 1024;
const MAX_PARALLELISM = 16;

/** scrypt hash with a random 16-byte salt, encoded `scrypt$N$r$p$salt_b64$hash_b64`. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(secret, salt, HASH_BYTES, PARAMS);
  const { N, r, p } = PARAMS;
  return ['scrypt', N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Constant-time compare; returns false on any malformed stored hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parsed = parseStoredHash(stored);
  if (parsed === undefined) return false;
  try {
    const actual = await scryptAsync(secret, parsed.salt, parsed.hash.length, parsed.params);
    return timingSafeEqual(actual, parsed.hash);
  } catch {
    return false;
  }
}

export interface SecretVerifierCache {
  verify(apiKey: string, secret: string, stored: string): Promise<boolean>;
  /**
   * Whether these credentials were verified recently, or the outcome of a check of them that is
   * running now: never a scrypt of its own, so cheap enough to answer a throttled client.
   */
  known(apiKey: string, secret: string, stored: string): Promise<boolean>;
}

export interface SecretVerifierCacheOptions {
  /** How long a successful check is trusted; default 5 minutes. */
  ttlMs?: number;
  /** Default 10 000; the oldest entries go first. */
  maxEntries?: number;
  /** Wall time: a cached check expires in real time. */
  nowMs: () => number;
  /** The slow check being cached; default verifySecret (tests count calls through it). */
  verifySecret?: (secret: string, stored: string) => Promise<boolean>;
}

/**
 * Basic auth sits on the hot path and one scrypt costs tens of milliseconds,
 * so successful checks are remembered for a while. Failures are never cached.
 * Concurrent checks of the same credentials share one scrypt run, so a burst
 * of requests from a cold start does not queue dozens of them.
 */
export function createSecretVerifierCache(options: SecretVerifierCacheOptions): SecretVerifierCache {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const { nowMs } = options;
  const slowVerify = options.verifySecret ?? verifySecret;

  // The cache key holds a keyed digest of the secret: a memory dump must not
  // offer a fast way to test guesses of it.
  const fingerprintKey = randomBytes(32);
  const fingerprint = (apiKey: string, secret: string, stored: string) =>
    createHmac('sha256', fingerprintKey).update(JSON.stringify([apiKey, secret, stored])).digest('base64');

  /** fingerprint → expiry ms; insertion order is expiry order because the ttl is constant. */
  const verified = new Map<string, number>();
  const inFlight = new Map<string, Promise<boolean>>();

  function remember(key: string): void {
    const now = nowMs();
    verified.delete(key);
    verified.set(key, now + ttlMs);
    // Drop from the old end whatever is expired or over the bound.
    for (const [oldest, expiresAt] of verified) {
      if (verified.size <= maxEntries && expiresAt > now) break;
      verified.delete(oldest);
    }
  }

  function isRemembered(key: string): boolean {
    const expiresAt = verified.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt > nowMs()) return true;
    verified.delete(key);
    return false;
  }

  return {
    async known(apiKey, secret, stored) {
      const key = fingerprint(apiKey, secret, stored);
      return isRemembered(key) || ((await inFlight.get(key)) ?? false);
    },
    async verify(apiKey, secret, stored) {
      const key = fingerprint(apiKey, secret, stored);
      if (isRemembered(key)) return true;

      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = slowVerify(secret, stored)
          .then((ok) => {
            if (ok) remember(key);
            return ok;
          })
          .finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
  };
}

interface StoredHash {
  params: ScryptOptions & { N: number; r: number; p: number };
  salt: Buffer;
  hash: Buffer;
}

function parseStoredHash(stored: string): StoredHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, nText, rText, pText, saltText, hashText] = parts;

  const N = parsePositiveInt(nText);
  const r = parsePositiveInt(rText);
  const p = parsePositiveInt(pText);
  const salt = decodeBase64Strict(saltText);
  const hash = decodeBase64Strict(hashText);
  if (N === undefined || r === undefined || p === undefined || salt === undefined || hash === undefined) {
    return undefined;
  }
  if (!isSaneCost(N, r, p) || salt.length === 0 || hash.length < 16 || hash.length > 64) return undefined;
  return { params: { N, r, p, maxmem: MAX_MEMORY_BYTES + 1024 * 1024 }, salt, hash };
}

/** N a power of two above 1 (scrypt's rule); memory and parallelism bounded. */
function isSaneCost(N: number, r: number, p: number): boolean {
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  return powerOfTwo && 128 * N * r <= MAX_MEMORY_BYTES && p <= MAX_PARALLELISM;
}

function parsePositiveInt(text: string | undefined): number | undefined {
  return text !== undefined && /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : undefined;
}

function decodeBase64Strict(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

function scryptAsync(secret: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
