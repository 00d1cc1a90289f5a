import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');

test('opendispatch demo runs the tutorial both ways in under a minute', async () => {
  const started = Date.now();
  const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bin', 'opendispatch.js'), 'demo'], { timeout: 60_000 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 60_000, `took ${elapsed} ms`);
  const [readInTime, notRead] = stdout.split(/\n(?=\d\. )/).slice(1);
  assert.ok(readInTime && notRead, stdout);

  assert.match(readInTime, /messenger read/);
  assert.match(readInTime, /final report: completed \(messenger read;/);
  assert.doesNotMatch(readInTime, /sms\s+submitted/);
  assert.match(readInTime, /step 1 \(sms\): never sent/);

  assert.match(notRead, /final report: completed \(messenger delivered, sms delivered;/);
  const smsAt = Number(notRead.match(/\+(\d+\.\d)s\s+sms\s+submitted/)?.[1]);
  assert.ok(smsAt >= 14.5 && smsAt <= 17, `the SMS came at +${smsAt}s, expected about 15 s`);
  assert.match(notRead, /step 0 \(messenger\): condition read not met within 15 s/);
});
