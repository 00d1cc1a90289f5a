/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3); junk is ignored. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  // All three HTTP-date forms start with a day name; the check keeps Date.parse's leniency
  // from reading "1.5" or "-5" as dates.
  const dateMs = /^[a-z]{3}/i.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
}
