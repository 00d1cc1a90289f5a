import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendMessage } from './jobs/job-kinds.js';
import { LaneShare } from './lane-share.js';
import { pacedSendLimits } from './send-route.js';

test('a paced provider’s limit is keyed as its send jobs are, so the lane holds it to it', () => {
  const limits = pacedSendLimits(new Map([['paced', 0.5]]), 32);
  const job = sendMessage.create({ messageUuid: 'm', provider: 'paced', dueAt: 0 });
  assert.equal(limits.get(job.key!), 5, 'ten seconds of 0.5/s');
  const share = new LaneShare(32, limits);
  for (let i = 0; i < 5; i += 1) share.started(job.key);
  assert.equal(share.atLimit(job.key), true);
  assert.equal(share.atLimit(sendMessage.create({ messageUuid: 'n', provider: 'other', dueAt: 0 }).key), false);
});
