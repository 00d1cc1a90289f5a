import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiptIdForm } from './receipt-id-form.js';

test('the TLV names the reference exactly as the submit was answered', () => {
  const form = new ReceiptIdForm();
  form.observe('3b9aca01');
  assert.deepEqual(form.referenceOf('3b9aca01', 'tlv'), { ref: '3b9aca01', alternates: [] });
});

test('an SMSC that answers in hex and writes decimal receipt texts: the text id is read as the hex reference, in its case', () => {
  const lower = new ReceiptIdForm();
  lower.observe('3b9aca01');
  assert.deepEqual(lower.referenceOf('1000000002', 'text'), { ref: '3b9aca02', alternates: [] });
  const upper = new ReceiptIdForm();
  upper.observe('3B9ACA01');
  assert.deepEqual(upper.referenceOf('1000000002', 'text'), { ref: '3B9ACA02', alternates: [] });
});

test('a hex SMSC whose texts are hex too: once a text shows letters, every text id is taken as written', () => {
  const form = new ReceiptIdForm();
  form.observe('3b9aca01');
  assert.deepEqual(form.referenceOf('3b9aca03', 'text'), { ref: '3b9aca03', alternates: [] });
  assert.deepEqual(form.referenceOf('10000000', 'text'), { ref: '10000000', alternates: [] });
});

test('an SMSC that answers in decimal and writes hex texts: a text with letters is read as the decimal reference', () => {
  const form = new ReceiptIdForm();
  form.observe('1000000001');
  assert.deepEqual(form.referenceOf('3B9ACA02', 'text'), { ref: '1000000002', alternates: [] });
  assert.deepEqual(form.referenceOf('1000000003', 'text'), { ref: '1000000003', alternates: [] });
});

test('two messages whose ids read as each other in the other base never get each other’s receipts', () => {
  // Decimal answers 64 and 100: a text "100" is message 100's, not 0x64's.
  const form = new ReceiptIdForm();
  form.observe('64');
  form.observe('100');
  assert.deepEqual(form.referenceOf('100', 'text'), { ref: '100', alternates: [] });
});

test('before any answer (just after a restart) every form is offered, the exact one first', () => {
  const form = new ReceiptIdForm();
  const { ref, alternates } = form.referenceOf('1000000001', 'text');
  assert.equal(ref, '1000000001');
  assert.ok(alternates.includes('3b9aca01'));
});
