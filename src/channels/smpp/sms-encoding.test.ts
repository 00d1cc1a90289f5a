import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeSms, encodingOf, MAX_SMS_PARTS, partsNeeded } from './sms-encoding.js';

const hex = (buffer: Buffer | undefined): string | undefined => buffer?.toString('hex').replace(/(..)(?!$)/g, '$1 ');

test('the reference example: "Hi €[" is GSM-7 with two ESC pairs', () => {
  const sms = encodeSms('Hi €[', 7);
  assert.equal(sms.encoding, 'gsm7');
  assert.equal(sms.dataCoding, 0);
  assert.equal(sms.parts.length, 1);
  assert.equal(hex(sms.parts[0]?.payload), '48 69 20 1b 65 1b 3c');
  assert.equal(sms.parts[0]?.udh, undefined);
});

test('characters of the GSM 03.38 default alphabet get their standard septet values', () => {
  // Written out from the 3GPP TS 23.038 table, independently of the module's own table.
  const standard: Array<[string, number]> = [
    ['@', 0x00], ['£', 0x01], ['$', 0x02], ['¥', 0x03], ['è', 0x04], ['é', 0x05], ['ù', 0x06], ['ì', 0x07],
    ['ò', 0x08], ['Ç', 0x09], ['\n', 0x0a], ['Ø', 0x0b], ['ø', 0x0c], ['\r', 0x0d], ['Å', 0x0e], ['å', 0x0f],
    ['\u0394', 0x10], ['_', 0x11], ['\u03a6', 0x12], ['\u0393', 0x13], ['\u039b', 0x14], ['\u03a9', 0x15],
    ['\u03a0', 0x16], ['\u03a8', 0x17], ['\u03a3', 0x18], ['\u0398', 0x19], ['\u039e', 0x1a],
    ['Æ', 0x1c], ['æ', 0x1d], ['ß', 0x1e], ['É', 0x1f], [' ', 0x20], ['"', 0x22], ['#', 0x23], ['¤', 0x24],
    ['%', 0x25], ["'", 0x27], ['0', 0x30], ['9', 0x39], ['?', 0x3f], ['¡', 0x40], ['A', 0x41], ['Z', 0x5a],
    ['Ä', 0x5b], ['Ö', 0x5c], ['Ñ', 0x5d], ['Ü', 0x5e], ['§', 0x5f], ['¿', 0x60], ['a', 0x61], ['z', 0x7a],
    ['ä', 0x7b], ['ö', 0x7c], ['ñ', 0x7d], ['ü', 0x7e], ['à', 0x7f],
  ];
  for (const [char, septet] of standard) {
    assert.equal(encodingOf(char), 'gsm7', JSON.stringify(char));
    assert.deepEqual([...encodeSms(char, 0).parts[0]!.payload], [septet], JSON.stringify(char));
  }
  const printableAscii = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 !"#%&\'()*+,-./:;<=>?';
  assert.deepEqual([...encodeSms(printableAscii, 0).parts[0]!.payload], [...Buffer.from(printableAscii, 'ascii')]);
});

test('extension characters are ESC + their code', () => {
  const extension: Array<[string, number]> = [
    ['\f', 0x0a], ['^', 0x14], ['{', 0x28], ['}', 0x29], ['\\', 0x2f], ['[', 0x3c], ['~', 0x3d], [']', 0x3e], ['|', 0x40], ['€', 0x65],
  ];
  for (const [char, code] of extension) {
    assert.equal(encodingOf(char), 'gsm7', JSON.stringify(char));
    assert.deepEqual([...encodeSms(char, 0).parts[0]!.payload], [0x1b, code], JSON.stringify(char));
  }
});

test('anything else forces UCS-2 for the whole text', () => {
  // ç is GSM only as capital Ç; backtick, curly quotes, Greek capital alpha (a Latin A look-alike), a raw ESC.
  for (const text of ['ç', '`', '\u2019', 'Hello \u0391', 'a\u001bb', 'Привет', 'Hi 😀', '中文', '\t']) {
    assert.equal(encodingOf(text), 'ucs2', JSON.stringify(text));
  }
  assert.equal(encodingOf(''), 'gsm7');
});

test('a UCS-2 text is data_coding 8 with UTF-16BE bytes; an emoji takes a surrogate pair', () => {
  const sms = encodeSms('Привет 😀', 1);
  assert.equal(sms.encoding, 'ucs2');
  assert.equal(sms.dataCoding, 8);
  assert.equal(sms.parts.length, 1);
  assert.equal(hex(sms.parts[0]?.payload), '04 1f 04 40 04 38 04 32 04 35 04 42 00 20 d8 3d de 00');
  assert.deepEqual(sms.parts[0]?.payload, Buffer.from('Привет 😀', 'utf16le').swap16());
});

test('a lone surrogate goes out as U+FFFD', () => {
  assert.equal(hex(encodeSms('a\ud800b', 0).parts[0]?.payload), '00 61 ff fd 00 62');
  assert.equal(hex(encodeSms('\ude00', 0).parts[0]?.payload), 'ff fd');
});

test('160 GSM-7 septets fit one SMS, 161 take two', () => {
  assert.equal(encodeSms('a'.repeat(160), 0).parts.length, 1);
  assert.equal(encodeSms('a'.repeat(160), 0).parts[0]?.payload.length, 160);
  const two = encodeSms('a'.repeat(161), 0);
  assert.deepEqual(two.parts.map((part) => part.payload.length), [153, 8]);
  assert.equal(partsNeeded('a'.repeat(160)), 1);
  assert.equal(partsNeeded('a'.repeat(161)), 2);
});

test('a 300-character GSM-7 text: two parts of 153 + 147 octets with the same reference', () => {
  const text = 'x'.repeat(300);
  const sms = encodeSms(text, 42);
  assert.equal(sms.encoding, 'gsm7');
  assert.equal(sms.parts.length, 2);
  assert.equal(hex(sms.parts[0]?.udh), '05 00 03 2a 02 01');
  assert.equal(hex(sms.parts[1]?.udh), '05 00 03 2a 02 02');
  assert.deepEqual(sms.parts.map((part) => part.payload.length), [153, 147]);
  assert.equal(Buffer.concat(sms.parts.map((part) => part.payload)).toString('ascii'), text);
});

test('extension characters count double', () => {
  assert.equal(partsNeeded('€'.repeat(80)), 1);
  assert.equal(partsNeeded('€'.repeat(81)), 2);
  assert.equal(partsNeeded('a'.repeat(159) + '['), 2);
  assert.equal(partsNeeded('a'.repeat(158) + '['), 1);
});

test('an ESC pair at a part boundary is not split', () => {
  const sms = encodeSms('a'.repeat(152) + '[' + 'b'.repeat(10), 3);
  assert.deepEqual(sms.parts.map((part) => part.payload.length), [152, 12]);
  assert.equal(hex(sms.parts[1]?.payload.subarray(0, 3)), '1b 3c 62');
  for (const part of sms.parts) assert.notEqual(part.payload.at(-1), 0x1b);
  // Extension characters throughout: every part holds whole pairs (152 octets = 76 pairs).
  const euros = encodeSms('€'.repeat(200), 4);
  assert.deepEqual(euros.parts.map((part) => part.payload.length), [152, 152, 96]);
});

test('70 UCS-2 units fit one SMS, 71 take two parts of at most 67', () => {
  assert.equal(encodeSms('Ж'.repeat(70), 0).parts.length, 1);
  const sms = encodeSms('Ж'.repeat(71), 9);
  assert.equal(sms.dataCoding, 8);
  assert.deepEqual(sms.parts.map((part) => part.payload.length), [134, 8]);
  assert.equal(hex(sms.parts[0]?.udh), '05 00 03 09 02 01');
  assert.equal(hex(sms.parts[1]?.udh), '05 00 03 09 02 02');
});

test('an emoji surrogate pair at a part boundary is not split', () => {
  // 66 units, then an emoji that would take units 67 and 68.
  const sms = encodeSms('Ж'.repeat(66) + '😀' + 'Ж'.repeat(3), 0);
  assert.deepEqual(sms.parts.map((part) => part.payload.length), [132, 10]);
  assert.equal(hex(sms.parts[1]?.payload.subarray(0, 4)), 'd8 3d de 00');
  const emoji = encodeSms('😀'.repeat(40), 0);
  assert.deepEqual(emoji.parts.map((part) => part.payload.length), [132, 28]);
  for (const part of emoji.parts) assert.equal(part.payload.readUInt16BE(0), 0xd83d);
});

test('an empty text is one empty GSM-7 part', () => {
  assert.deepEqual(encodeSms('', 0), { encoding: 'gsm7', dataCoding: 0, parts: [{ payload: Buffer.alloc(0) }] });
});

test('texts beyond the part limit and bad arguments are refused with a RangeError', () => {
  assert.equal(MAX_SMS_PARTS, 255);
  assert.equal(encodeSms('a'.repeat(255 * 153), 0).parts.length, 255);
  assert.throws(() => encodeSms('a'.repeat(255 * 153 + 1), 0), RangeError);
  assert.throws(() => encodeSms('Ж'.repeat(255 * 67 + 1), 0), RangeError);
  assert.throws(() => encodeSms('a'.repeat(10_000_000), 0), RangeError);
  assert.equal(partsNeeded('a'.repeat(255 * 153 + 1)), 256);
  // A caller's own, lower limit.
  assert.equal(encodeSms('a'.repeat(6 * 153), 0, 6).parts.length, 6);
  assert.throws(() => encodeSms('a'.repeat(6 * 153 + 1), 0, 6), RangeError);
  assert.equal(encodeSms('a'.repeat(160), 0, 1).parts.length, 1);
  assert.throws(() => encodeSms('a'.repeat(161), 0, 1), RangeError);
  for (const reference of [-1, 256, 1.5, Number.NaN]) assert.throws(() => encodeSms('a', reference), RangeError);
  for (const maxParts of [0, 256, 2.5]) assert.throws(() => encodeSms('a', 0, maxParts), RangeError);
});

test('parts of a long mixed text put back together give the whole payload', () => {
  const text = 'Grüße aus Zürich {€} ~ '.repeat(30);
  const sms = encodeSms(text, 200);
  assert.equal(sms.encoding, 'gsm7');
  for (const [index, part] of sms.parts.entries()) {
    assert.ok(part.payload.length <= 153);
    assert.equal(hex(part.udh), hex(Buffer.from([5, 0, 3, 200, sms.parts.length, index + 1])));
  }
  const septets = [...text].reduce((n, char) => n + ('{}€~'.includes(char) ? 2 : 1), 0);
  assert.equal(Buffer.concat(sms.parts.map((part) => part.payload)).length, septets);
});
