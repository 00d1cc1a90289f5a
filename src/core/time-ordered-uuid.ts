/**
 * A UUIDv7 (RFC 9562): the first 48 bits are the ms time, the rest random, so ids made one after
 * the other sort together and land in the same index pages. Random (v4) keys dirty an index page
 * each (DESIGN §5: about 10 600 accepts a second against 41 000 with time-ordered keys). It is
 * still a valid `message_uuid` to every client.
 *
 * Built from a v4 uuid's random bits (node:crypto's randomUUID, which callers pass in): about
 * 0.2 µs an id, against about 5 µs for the `uuid` package's v7 (measured on this machine).
 */
export function timeOrderedUuid(nowMs: number, randomUuid: string): string {
  const time = Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0').slice(-12);
  // A v4 uuid's version digit sits at index 14; the random digits after it are kept, and the
  // 48-bit time and the version 7 take the places before them.
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUuid.slice(15)}`;
}
