/**
 * What a provider reports (receipts, inbound messages) is stored as it came, but for U+0000:
 * PostgreSQL's text and jsonb cannot hold it, and a report that cannot be stored would be
 * refused to the provider forever. It becomes U+FFFD, the replacement character, as undecodable
 * text does. (Clients are refused instead: api/nul-characters.ts.)
 */
const NUL = /\u0000/g;
const REPLACEMENT = '\uFFFD';

/**
 * The value with every NUL in its strings (keys too) replaced; the value itself when it has
 * none. Every receipt passes through here, so the common case only looks and allocates nothing.
 */
export function withoutNulCharacters<T>(value: T): T {
  return containsNul(value) ? (replaced(value) as T) : value;
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(containsNul);
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) if (key.includes('\u0000') || containsNul((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** A copy with every NUL replaced (only called on a value that has one). */
function replaced(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(NUL, REPLACEMENT);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(replaced);
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key.replace(NUL, REPLACEMENT), replaced(item)]));
}
