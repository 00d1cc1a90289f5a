/**
 * The key that groups webhook deliveries by receiver (scheme, host and port), so that one
 * receiver can be limited to a share of the webhook lane.
 */
export function originKey(url: string): string {
  try {
    return `origin:${new URL(url).origin}`;
  } catch {
    return 'origin:invalid';
  }
}

/** Whether `value` is an absolute http or https URL (webhook addresses, media URLs). */
export function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * A webhook address as it is stored: parsed and serialised by the WHATWG URL rules, so that one
 * address has one spelling (`http://2130706433/` is `http://127.0.0.1/`) and the address checked
 * is the address used. Refused: anything but absolute http(s), userinfo (credentials in a URL
 * end up in logs), whitespace and control characters, and backslashes (which parsers disagree on).
 */
export function normaliseWebhookUrl(raw: string): { ok: true; url: string } | { ok: false; reason: string } {
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) return { ok: false, reason: 'must not contain whitespace or control characters' };
  if (raw.includes('\\')) return { ok: false, reason: 'must not contain backslashes' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'must be an absolute http or https URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'must be an absolute http or https URL' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'must not carry a user name or password' };
  return { ok: true, url: url.href };
}
