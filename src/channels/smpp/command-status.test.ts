import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyCommandStatus, commandStatusName } from './command-status.js';

test('ESME_ROK is ok', () => {
  assert.deepEqual(classifyCommandStatus(0), { kind: 'ok' });
  assert.equal(commandStatusName(0), 'ESME_ROK');
});

test('throttling and a full queue are retried after a pause, as Throttled', () => {
  assert.deepEqual(classifyCommandStatus(0x58), {
    kind: 'retryable',
    error: { code: 1000, reason: 'Throttling error (ESME_RTHROTTLED)' },
    retryAfterMs: 1000,
  });
  assert.deepEqual(classifyCommandStatus(0x14), {
    kind: 'retryable',
    error: { code: 1000, reason: 'Message queue full (ESME_RMSGQFUL)' },
    retryAfterMs: 5000,
  });
});

test('SMSC system errors and temporary receiver errors are retried without a pause of their own', () => {
  assert.deepEqual(classifyCommandStatus(0x08), { kind: 'retryable', error: { code: 1331, reason: 'SMSC system error (ESME_RSYSERR)' } });
  assert.deepEqual(classifyCommandStatus(0x64), {
    kind: 'retryable',
    error: { code: 1331, reason: 'Receiver temporary application error (ESME_RX_T_APPN)' },
  });
});

test('a wrong bind state asks for a rebind', () => {
  assert.deepEqual(classifyCommandStatus(0x04), { kind: 'rebind', error: { code: 1100, reason: 'Incorrect bind status (ESME_RINVBNDSTS)' } });
  // Even when an operator lists it as retryable.
  assert.equal(classifyCommandStatus(0x04, { alsoRetryable: [0x04] }).kind, 'rebind');
});

test('permanent codes carry the nearest Nexmo error and name the SMPP error', () => {
  const cases: Array<[number, number, string]> = [
    [0x0b, 1170, 'Invalid destination address (ESME_RINVDSTADR)'],
    [0x0a, 1120, 'Invalid source address (ESME_RINVSRCADR)'],
    [0x48, 1120, 'Invalid source address TON (ESME_RINVSRCTON)'],
    [0x49, 1120, 'Invalid source address NPI (ESME_RINVSRCNPI)'],
    [0x50, 1020, 'Invalid destination address TON (ESME_RINVDSTTON)'],
    [0x51, 1020, 'Invalid destination address NPI (ESME_RINVDSTNPI)'],
    [0x01, 1020, 'Invalid message length (ESME_RINVMSGLEN)'],
    [0x02, 1020, 'Invalid command length (ESME_RINVCMDLEN)'],
    [0x03, 1020, 'Invalid command ID (ESME_RINVCMDID)'],
    [0x43, 1020, 'Invalid esm_class (ESME_RINVESMCLASS)'],
    [0x61, 1020, 'Invalid scheduled delivery time (ESME_RINVSCHED)'],
    [0x62, 1130, 'Invalid validity period (ESME_RINVEXPIRY)'],
    [0x65, 1331, 'Receiver permanent application error (ESME_RX_P_APPN)'],
    [0x66, 1331, 'Receiver rejected the message (ESME_RX_R_APPN)'],
    [0xc0, 1020, 'Invalid TLV stream (ESME_RINVOPTPARSTREAM)'],
    [0xc1, 1020, 'TLV not allowed (ESME_ROPTPARNOTALLWD)'],
    [0xc2, 1020, 'Invalid TLV length (ESME_RINVPARLEN)'],
    [0xc3, 1020, 'Missing TLV (ESME_RMISSINGOPTPARAM)'],
    [0xc4, 1020, 'Invalid TLV value (ESME_RINVOPTPARAMVAL)'],
    [0x104, 1020, 'Invalid data coding scheme (ESME_RINVDCS)'],
    [0x100, 1140, 'Not authorised to use the service type (ESME_RSERTYPUNAUTH)'],
    [0x101, 1140, 'Prohibited from using the operation (ESME_RPROHIBITED)'],
    [0x45, 1331, 'Submit failed (ESME_RSUBMITFAIL)'],
    [0xff, 1330, 'Unknown error (ESME_RUNKNOWNERR)'],
    [0x0d, 1331, 'Bind failed (ESME_RBINDFAIL)'],
    [0x0e, 1331, 'Invalid password (ESME_RINVPASWD)'],
    [0x0f, 1331, 'Invalid system ID (ESME_RINVSYSID)'],
  ];
  for (const [status, code, reason] of cases) {
    assert.deepEqual(classifyCommandStatus(status), { kind: 'permanent', error: { code, reason } }, commandStatusName(status));
  }
});

test('codes outside the table are permanent provider errors, named in hex', () => {
  assert.deepEqual(classifyCommandStatus(0x401), {
    kind: 'permanent',
    error: { code: 1331, reason: 'Provider error: the SMSC answered command_status 0x00000401' },
  });
  assert.equal(classifyCommandStatus(0x09).kind, 'permanent');
  assert.equal(commandStatusName(0xab), '0x000000ab');
  assert.equal(commandStatusName(0x401), '0x00000401');
  assert.equal(commandStatusName(0xffffffff), '0xffffffff');
  assert.equal(commandStatusName(-1), '0xffffffff');
});

test('an operator may make ambiguous permanent codes retryable', () => {
  assert.deepEqual(classifyCommandStatus(0x45, { alsoRetryable: [0x45, 0xff] }), {
    kind: 'retryable',
    error: { code: 1331, reason: 'Submit failed (ESME_RSUBMITFAIL)' },
  });
  assert.equal(classifyCommandStatus(0xff, { alsoRetryable: [0x45, 0xff] }).kind, 'retryable');
  assert.equal(classifyCommandStatus(0x401, { alsoRetryable: [0x401] }).kind, 'retryable');
  assert.equal(classifyCommandStatus(0x0b, { alsoRetryable: [0x45] }).kind, 'permanent');
  assert.deepEqual(classifyCommandStatus(0, { alsoRetryable: [0] }), { kind: 'ok' });
});

test('names of the §4.4 table', () => {
  const names: Array<[number, string]> = [
    [0x58, 'ESME_RTHROTTLED'],
    [0x14, 'ESME_RMSGQFUL'],
    [0x08, 'ESME_RSYSERR'],
    [0x64, 'ESME_RX_T_APPN'],
    [0x04, 'ESME_RINVBNDSTS'],
    [0x45, 'ESME_RSUBMITFAIL'],
    [0xff, 'ESME_RUNKNOWNERR'],
    [0x0a, 'ESME_RINVSRCADR'],
    [0x0b, 'ESME_RINVDSTADR'],
    [0x43, 'ESME_RINVESMCLASS'],
    [0x48, 'ESME_RINVSRCTON'],
    [0x49, 'ESME_RINVSRCNPI'],
    [0x50, 'ESME_RINVDSTTON'],
    [0x51, 'ESME_RINVDSTNPI'],
    [0x61, 'ESME_RINVSCHED'],
    [0x62, 'ESME_RINVEXPIRY'],
    [0x65, 'ESME_RX_P_APPN'],
    [0x66, 'ESME_RX_R_APPN'],
    [0x104, 'ESME_RINVDCS'],
    [0x101, 'ESME_RPROHIBITED'],
    [0x100, 'ESME_RSERTYPUNAUTH'],
    [0x0d, 'ESME_RBINDFAIL'],
    [0x0e, 'ESME_RINVPASWD'],
    [0x0f, 'ESME_RINVSYSID'],
    [0x05, 'ESME_RALYBND'],
  ];
  for (const [status, name] of names) assert.equal(commandStatusName(status), name);
});
