/**
 * What a provider reports (receipts, inbound messages) is stored as it came, but for U+0000:
 * PostgreSQL's text and jsonb cannot hold it, and a report that cannot be stored would be
 * refused to the provider forever. It becomes U+FFFD, the replacement character, as undecodable
 * text does. (Clients are refused instead: api/nul-characters.ts.)
 */
const NUL = /\u0000/g;
const REPLACEMENT = '\uFFFD';

/** The value with every NUL in its strings (keys too) replaced; the value itself when it has none. */
export function withoutNulCharacters<T>(value: T): T {
  return replaced(value) as T;
}

function replaced(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('\u0000') ? value.replace(NUL, REPLACEMENT) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items = value.map(replaced);
    return items.some((item, index) => item !== value[index]) ? items : value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let changed = false;
  const entries = Object.entries(value).map(([key, item]) => {
    const entry = [replaced(key) as string, replaced(item)] as const;
    if (entry[0] !== key || entry[1] !== item) changed = true;
    return entry;
  });
  return changed ? Object.fromEntries(entries) : value;
}
