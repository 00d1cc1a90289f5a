import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageStateName, parseReceiptText, receiptError, receiptFromTlvs, referenceCandidates, statusOfReceiptState } from './delivery-receipt.js';

const at = (year: number, month: number, day: number, hour: number, minute: number, second = 0): number => Date.UTC(year, month - 1, day, hour, minute, second);

test('the SMPP Appendix B receipt text', () => {
  const text = 'id:1234567890 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Hello there';
  assert.deepEqual(parseReceiptText(text), {
    messageId: '1234567890',
    state: 'DELIVRD',
    error: '000',
    submitted: at(2024, 1, 1, 12, 0),
    done: at(2024, 1, 1, 12, 1),
  });
});

test('keys in any case and order, fields missing, 12-digit dates, unknown fields', () => {
  assert.deepEqual(parseReceiptText('Stat:undeliv ID:abc-1 Done Date:251231235959 ERR:075 mcc:234 Text:x'), {
    messageId: 'abc-1',
    state: 'UNDELIV',
    error: '075',
    done: at(2025, 12, 31, 23, 59, 59),
  });
  assert.deepEqual(parseReceiptText('id:7 stat:EXPIRED'), { messageId: '7', state: 'EXPIRED' });
  assert.deepEqual(parseReceiptText('id:7 submit_date:2402291200 stat:ENROUTE extra:1 err:0'), {
    messageId: '7',
    state: 'ENROUTE',
    error: '0',
    submitted: at(2024, 2, 29, 12, 0),
  });
  assert.deepEqual(parseReceiptText('  id: 99  stat: DELIVRD  '), { messageId: '99', state: 'DELIVRD' });
  // A repeated key: the first one counts.
  assert.deepEqual(parseReceiptText('id:1 stat:DELIVRD stat:UNDELIV'), { messageId: '1', state: 'DELIVRD' });
});

test('the user text after text: is never read as fields', () => {
  assert.deepEqual(parseReceiptText('id:1 sub:001 dlvrd:000 stat:UNDELIV err:001 text:id:2 stat:DELIVRD err:000'), {
    messageId: '1',
    state: 'UNDELIV',
    error: '001',
  });
  assert.equal(parseReceiptText('id:1 text: stat:DELIVRD'), undefined);
  // "sub" and "dlvrd" as part of another word are not keys.
  assert.deepEqual(parseReceiptText('msgid:5 id:6 stat:ACCEPTD'), { messageId: '6', state: 'ACCEPTD' });
});

test('no id or no stat: not a receipt', () => {
  for (const text of ['', 'hello', 'stat:DELIVRD err:000', 'id:123 err:000 text:', 'id: stat:DELIVRD', 'id:1 stat:', 'id:1 stat: text:DELIVRD']) {
    assert.equal(parseReceiptText(text), undefined, JSON.stringify(text));
  }
});

test('dates that are not real dates are left out', () => {
  for (const date of ['2413011200', '2402301200', '2401012400', '2401011260', '240101120061', '24010112', '240101120', 'abcdefghij', '2401011200000']) {
    assert.deepEqual(parseReceiptText(`id:1 submit date:${date} stat:DELIVRD`), { messageId: '1', state: 'DELIVRD' }, date);
  }
  assert.equal(parseReceiptText('id:1 submit date:0001010000 stat:DELIVRD')?.submitted, at(2000, 1, 1, 0, 0));
});

test('receipt TLVs come first, the text fills what they lack', () => {
  const text = 'id:0000001234 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:';
  assert.deepEqual(receiptFromTlvs({ receiptedMessageId: '4d2', messageState: 5, networkErrorCode: Buffer.from([0x03, 0x00, 0x1b]) }, text), {
    messageId: '4d2',
    state: 'UNDELIV',
    error: '027',
    submitted: at(2024, 1, 1, 12, 0),
    done: at(2024, 1, 1, 12, 1),
  });
  assert.deepEqual(receiptFromTlvs({ receiptedMessageId: 'abc1', messageState: 2 }), { messageId: 'abc1', state: 'DELIVRD' });
  assert.deepEqual(receiptFromTlvs({ receiptedMessageId: 'abc1\0' }, 'id:zzz stat:REJECTD err:011'), { messageId: 'abc1', state: 'REJECTD', error: '011' });
  assert.deepEqual(receiptFromTlvs({ messageState: 3 }, 'id:55 stat:DELIVRD'), { messageId: '55', state: 'EXPIRED' });
  // An out-of-table message_state or a short network_error_code is not used.
  assert.deepEqual(receiptFromTlvs({ receiptedMessageId: 'x', messageState: 42, networkErrorCode: Buffer.from([1]) }, 'id:x stat:ENROUTE err:004'), {
    messageId: 'x',
    state: 'ENROUTE',
    error: '004',
  });
  assert.equal(receiptFromTlvs({ receiptedMessageId: 'x', messageState: 42 }), undefined);
  assert.equal(receiptFromTlvs({ messageState: 2 }), undefined);
  assert.equal(receiptFromTlvs({ receiptedMessageId: '', messageState: 2 }, 'no receipt here'), undefined);
  assert.equal(receiptFromTlvs({}), undefined);
});

test('message_state values name the states of the table', () => {
  const names = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(messageStateName);
  assert.deepEqual(names, ['SCHEDULED', 'ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'SKIPPED']);
  for (const state of [-1, 10, 1.5, Number.NaN]) assert.equal(messageStateName(state), undefined);
});

test('receipt states map to the common status', () => {
  const cases: Array<[string, string, boolean]> = [
    ['SCHEDULED', 'submitted', false],
    ['ENROUTE', 'submitted', false],
    ['ACCEPTD', 'submitted', false],
    ['ACKED', 'submitted', false],
    ['BUFFRED', 'submitted', false],
    ['BUFFERD', 'submitted', false],
    ['DELIVRD', 'delivered', true],
    ['delivrd', 'delivered', true],
    ['EXPIRED', 'undeliverable', true],
    ['DELETED', 'undeliverable', true],
    ['UNDELIV', 'undeliverable', true],
    ['UNKNOWN', 'undeliverable', true],
    ['SKIPPED', 'undeliverable', true],
    ['REJECTD', 'rejected', true],
    // A vendor's own word waits for a known state or the deadline.
    ['SENT', 'submitted', false],
    ['', 'submitted', false],
  ];
  for (const [state, status, final] of cases) assert.deepEqual(statusOfReceiptState(state), { status, final }, state);
});

test('a failed receipt has a fixed Nexmo error; others have none', () => {
  const error = (state: string) => receiptError({ messageId: '1', state, error: '999' });
  assert.equal(error('EXPIRED')?.code, 1180);
  for (const state of ['UNDELIV', 'REJECTD', 'DELETED', 'UNKNOWN', 'SKIPPED']) assert.equal(error(state)?.code, 1330, state);
  assert.match(error('REJECTD')?.reason ?? '', /\(REJECTD\)$/);
  for (const state of ['DELIVRD', 'ENROUTE', 'ACCEPTD', 'SCHEDULED', 'ACKED', 'BUFFRED', 'SENT']) assert.equal(error(state), undefined, state);
  // Every failing state has an error, and the reason never carries the SMSC's err or text.
  for (const state of ['SCHEDULED', 'ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'SKIPPED', 'ACKED', 'BUFFRED', 'BUFFERD']) {
    const failed = statusOfReceiptState(state).status === 'undeliverable' || statusOfReceiptState(state).status === 'rejected';
    assert.equal(error(state) !== undefined, failed, state);
    assert.doesNotMatch(error(state)?.reason ?? '', /999/);
  }
  assert.deepEqual(
    receiptError(parseReceiptText('id:1 stat:undeliv err:001 text:call me')!),
    { code: 1330, reason: 'Unknown (carrier): the network could not deliver the message (UNDELIV)' },
  );
});

test('reference candidates: exact first, then hex and decimal readings', () => {
  assert.ok(referenceCandidates('3B9ACA01').includes('1000000001'));
  assert.ok(referenceCandidates('3b9aca01').includes('1000000001'));
  const fromDecimal = referenceCandidates('1000000001');
  assert.ok(fromDecimal.includes('3b9aca01'));
  assert.ok(fromDecimal.includes('3B9ACA01'));
  assert.equal(fromDecimal[0], '1000000001');
  assert.deepEqual(referenceCandidates('3B9ACA01'), ['3B9ACA01', '3b9aca01', '1000000001']);
  assert.equal(new Set(fromDecimal).size, fromDecimal.length);
});

test('reference candidates drop leading zeros when converting, and use BigInt for long ids', () => {
  assert.deepEqual(referenceCandidates('0000001234'), ['0000001234', '1234', '4d2', '4D2', '4660']);
  assert.ok(referenceCandidates('00FF').includes('255'));
  assert.ok(referenceCandidates('00FF').includes('ff'));
  // 2^64 + 1: past Number's exact range.
  assert.ok(referenceCandidates('18446744073709551617').includes('10000000000000001'));
  assert.ok(referenceCandidates('10000000000000001').includes('18446744073709551617'));
  assert.deepEqual(referenceCandidates('0'), ['0']);
});

test('reference candidates of ids that are no number, or too long to be an SMPP id', () => {
  assert.deepEqual(referenceCandidates('msg-42'), ['msg-42']);
  assert.deepEqual(referenceCandidates(' abc1 '), ['abc1', 'ABC1', '43969']);
  assert.deepEqual(referenceCandidates(''), []);
  assert.deepEqual(referenceCandidates('   '), []);
  const long = '9'.repeat(66);
  assert.deepEqual(referenceCandidates(long), [long]);
});
