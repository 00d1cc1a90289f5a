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
