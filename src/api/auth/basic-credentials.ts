/**
 * Parsing of `Authorization` header values. Auth schemes are case-insensitive
 * (RFC 9110 §11.1), so `basic` and `BEARER` are accepted too.
 */

const BASIC = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i;
/** RFC 6750 `b64token`: a JWT fits, anything with spaces or commas does not. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Fatal, so invalid UTF-8 is refused instead of silently becoming U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses an `Authorization: Basic …` header value into key and secret; undefined when malformed. */
export function parseBasicAuthorization(header: string): { apiKey: string; apiSecret: string } | undefined {
  const encoded = BASIC.exec(header)?.[1];
  const decoded = encoded === undefined ? undefined : decodeBase64Utf8(encoded);
  if (decoded === undefined) return undefined;

  // The key cannot contain ':' (RFC 7617); the secret may.
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const apiKey = decoded.slice(0, colon);
  const apiSecret = decoded.slice(colon + 1);
  return apiSecret === '' ? undefined : { apiKey, apiSecret };
}

/** Parses `Bearer <token>`; undefined otherwise. */
export function parseBearerAuthorization(header: string): string | undefined {
  return BEARER.exec(header)?.[1];
}

function decodeBase64Utf8(encoded: string): string | undefined {
  const bytes = Buffer.from(encoded, 'base64');
  // Buffer decoding is lenient; a round trip catches impossible lengths (e.g. "abcde").
  if (stripPadding(bytes.toString('base64')) !== stripPadding(encoded)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function stripPadding(base64: string): string {
  return base64.replace(/=+$/, '');
}
