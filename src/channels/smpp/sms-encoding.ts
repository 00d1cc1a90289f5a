/**
 * SMS text → the `data_coding` and `short_message` octets of one or more submit_sm PDUs
 * (reference channels.md §4.5): GSM 03.38 when every character has a GSM-7 code, UCS-2 otherwise;
 * concatenated with the 8-bit-reference UDH when the text does not fit one SMS.
 */

export type SmsEncoding = 'gsm7' | 'ucs2';

export interface SmsPart {
  /** The bytes of short_message without UDH: GSM-7 unpacked one septet per octet (extension chars as ESC 0x1B + code), or UCS-2 big-endian. */
  payload: Buffer;
  /** The full UDH including its length octet (`05 00 03 ref total seq`); only on parts of a concatenated message. */
  udh?: Buffer;
}

export interface EncodedSms {
  encoding: SmsEncoding;
  /** 0 (SMSC default alphabet, GSM 03.38) for gsm7, 8 for ucs2. */
  dataCoding: number;
  parts: SmsPart[];
}

/**
 * The most parts a text may take: the UDH's "total" is one octet. This is the protocol's limit,
 * not a sensible one for handsets; callers that want fewer pass their own `maxParts`.
 */
export const MAX_SMS_PARTS = 255;

/** Units (septets for GSM-7, UTF-16 code units for UCS-2) that one SMS carries, alone or with the 6-octet UDH. */
const LIMITS: Record<SmsEncoding, { single: number; concat: number; octetsPerUnit: number }> = {
  gsm7: { single: 160, concat: 153, octetsPerUnit: 1 },
  ucs2: { single: 70, concat: 67, octetsPerUnit: 2 },
};

const ESC = 0x1b;

/**
 * The GSM 03.38 default alphabet, one row of 16 code points per line: the character at index i
 * has the septet value i. 0x1B is the escape to the extension table, not a character: a literal
 * U+001B in a text has no GSM-7 code (sending it raw would turn the next character into an
 * extension one), so such a text goes out as UCS-2. Greek capitals are escaped so no Latin
 * look-alike can slip in.
 */
const BASIC_ROWS = [
  '@£$¥èéùìòÇ\nØø\rÅå', // 0x00
  '\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u001bÆæßÉ', // 0x10: Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ ESC Æ æ ß É
  ' !"#¤%&\'()*+,-./', // 0x20
  '0123456789:;<=>?', // 0x30
  '¡ABCDEFGHIJKLMNO', // 0x40
  'PQRSTUVWXYZÄÖÑÜ§', // 0x50
  '¿abcdefghijklmno', // 0x60
  'pqrstuvwxyzäöñüà', // 0x70
];

/** The extension table: these cost two septets, ESC + the code. */
const EXTENSION: ReadonlyArray<readonly [string, number]> = [
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
];

/** UTF-16 code unit → its GSM-7 octets (one, or ESC + code). Every GSM character is a single BMP code unit. */
const GSM7 = new Map<number, readonly number[]>();
BASIC_ROWS.join('')
  .split('')
  .forEach((char, septet) => {
    if (septet !== ESC) GSM7.set(char.charCodeAt(0), [septet]);
  });
for (const [char, code] of EXTENSION) GSM7.set(char.charCodeAt(0), [ESC, code]);

export function encodingOf(text: string): SmsEncoding {
  for (let i = 0; i < text.length; i += 1) {
    if (!GSM7.has(text.charCodeAt(i))) return 'ucs2';
  }
  return 'gsm7';
}

/**
 * The text as SMS parts. `reference` (0–255) is the concatenation reference, the same in every
 * part of this message; use a fresh one per message. A text that needs more than `maxParts`
 * parts (default and ceiling MAX_SMS_PARTS) is refused with a RangeError.
 */
export function encodeSms(text: string, reference: number, maxParts: number = MAX_SMS_PARTS): EncodedSms {
  if (!Number.isInteger(reference) || reference < 0 || reference > 255) {
    throw new RangeError(`the concatenation reference must be an integer 0–255, not ${reference}`);
  }
  checkMaxParts(maxParts);
  // Every character takes at least one unit, so this refuses huge texts before encoding them.
  if (text.length > Math.max(LIMITS.gsm7.single, maxParts * LIMITS.gsm7.concat)) throw tooLong(maxParts);

  const { encoding, payload, ends } = layout(text);
  if (ends.length > maxParts) throw tooLong(maxParts);
  const dataCoding = encoding === 'gsm7' ? 0 : 8;
  if (ends.length === 1) return { encoding, dataCoding, parts: [{ payload }] };

  let start = 0;
  const parts = ends.map((end, index): SmsPart => {
    const part = { payload: Buffer.from(payload.subarray(start, end)), udh: Buffer.from([0x05, 0x00, 0x03, reference, ends.length, index + 1]) };
    start = end;
    return part;
  });
  return { encoding, dataCoding, parts };
}

/** How many SMS parts the text takes (may exceed MAX_SMS_PARTS: then encodeSms refuses it). */
export function partsNeeded(text: string): number {
  return layout(text).ends.length;
}

function checkMaxParts(maxParts: number): void {
  if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > MAX_SMS_PARTS) {
    throw new RangeError(`maxParts must be an integer 1–${MAX_SMS_PARTS}, not ${maxParts}`);
  }
}

function tooLong(maxParts: number): RangeError {
  return new RangeError(`the text needs more than ${maxParts} SMS part${maxParts === 1 ? '' : 's'}`);
}

/**
 * The whole payload, and the octet offset where each part ends. Parts are cut only between
 * atoms: a GSM-7 character (1 octet, or the 2 of an ESC pair) or a UCS-2 code point (2 octets,
 * or the 4 of a surrogate pair), so neither pair is ever split across parts.
 */
function layout(text: string): { encoding: SmsEncoding; payload: Buffer; ends: number[] } {
  const encoding = encodingOf(text);
  const { payload, atomEnds } = encoding === 'gsm7' ? gsm7Atoms(text) : ucs2Atoms(text);
  const { single, concat, octetsPerUnit } = LIMITS[encoding];
  if (payload.length <= single * octetsPerUnit) return { encoding, payload, ends: [payload.length] };

  const limit = concat * octetsPerUnit;
  const ends: number[] = [];
  let partStart = 0;
  let previous = 0;
  for (const end of atomEnds) {
    if (end - partStart > limit) {
      ends.push(previous);
      partStart = previous;
    }
    previous = end;
  }
  ends.push(previous);
  return { encoding, payload, ends };
}

function gsm7Atoms(text: string): { payload: Buffer; atomEnds: number[] } {
  const octets: number[] = [];
  const atomEnds: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    // encodingOf said every code unit has a code.
    octets.push(...GSM7.get(text.charCodeAt(i))!);
    atomEnds.push(octets.length);
  }
  return { payload: Buffer.from(octets), atomEnds };
}

/**
 * UTF-16 big-endian (what handsets read for data_coding 8, so emoji survive). A lone surrogate
 * is not a character: it is sent as U+FFFD, which keeps the length and the bytes well formed.
 */
function ucs2Atoms(text: string): { payload: Buffer; atomEnds: number[] } {
  const payload = Buffer.alloc(text.length * 2);
  const atomEnds: number[] = [];
  let i = 0;
  while (i < text.length) {
    const unit = text.charCodeAt(i);
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    if (isHighSurrogate(unit) && isLowSurrogate(next)) {
      payload.writeUInt16BE(unit, i * 2);
      payload.writeUInt16BE(next, i * 2 + 2);
      i += 2;
    } else {
      payload.writeUInt16BE(isHighSurrogate(unit) || isLowSurrogate(unit) ? 0xfffd : unit, i * 2);
      i += 1;
    }
    atomEnds.push(i * 2);
  }
  return { payload, atomEnds };
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
