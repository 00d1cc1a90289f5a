import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planOf, validateDispatchRequest } from './dispatch-request.js';

const messenger = (failover?: unknown) => ({
  from: { type: 'messenger', id: '1234567890' },
  to: { type: 'messenger', id: '0987654321' },
  message: { content: { type: 'text', text: 'This is a Facebook Messenger Message sent via the Dispatch API' } },
  ...(failover !== undefined && { failover }),
});
const sms = (failover?: unknown) => ({
  from: { type: 'sms', number: '447700900000' },
  to: { type: 'sms', number: '447700900001' },
  message: { content: { type: 'text', text: 'This is an SMS sent via the Dispatch API' } },
  ...(failover !== undefined && { failover }),
});
const readIn600 = { expiry_time: 600, condition_status: 'read' };

test('the tutorial body, with ids spliced as JSON numbers, is valid and coerced to strings', () => {
  const body = {
    template: 'failover',
    workflow: [
      { ...messenger(readIn600), from: { type: 'messenger', id: 1234567890 }, to: { type: 'messenger', id: 987654321 } },
      { ...sms(), from: { type: 'sms', number: 447700900000 }, to: { type: 'sms', number: 447700900001 } },
    ],
  };
  const result = validateDispatchRequest(body);
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.value.workflow[0]!.from, { type: 'messenger', id: '1234567890' });
  assert.deepEqual(result.value.workflow[1]!.to, { type: 'sms', number: '447700900001' });
  assert.deepEqual(planOf(result.value), [
    { channel: 'messenger', condition: { status: 'read', expirySeconds: 600 } },
    { channel: 'sms' },
  ]);
});

test('leniencies: numeric-string expiry, null entries, a single step, mms', () => {
  const cases: unknown[] = [
    { template: 'failover', workflow: [messenger({ expiry_time: '600', condition_status: 'read' }), sms()] },
    { template: 'failover', workflow: [messenger(readIn600), sms(), null] },
    { template: 'failover', workflow: [sms()] },
    {
      template: 'failover',
      workflow: [
        { from: { type: 'mms', number: '14155550100' }, to: { type: 'mms', number: '14155550101' }, message: { content: { type: 'image', image: { url: 'https://example.com/a.jpg' } } }, failover: { expiry_time: 15, condition_status: 'delivered' } },
        sms(),
      ],
    },
  ];
  for (const body of cases) assert.equal(validateDispatchRequest(body).ok, true, JSON.stringify(body));
});

test('every malformed workflow names the field', () => {
  const tenSteps = Array.from({ length: 10 }, () => sms({ expiry_time: 15, condition_status: 'delivered' }));
  const cases: Array<[unknown, Array<[string, RegExp]>]> = [
    [[], [['body', /JSON object/]]],
    [{}, [['workflow', /cannot be empty/]]],
    [{ workflow: [sms()] }, [['template', /required/]]],
    [{ template: 'broadcast', workflow: [sms()] }, [['template', /must be failover/]]],
    [{ template: 'failover' }, [['workflow', /required/]]],
    [{ template: 'failover', workflow: {} }, [['workflow', /array/]]],
    [{ template: 'failover', workflow: [] }, [['workflow', /1 to 10/]]],
    [{ template: 'failover', workflow: [null] }, [['workflow', /1 to 10/]]],
    [{ template: 'failover', workflow: [...tenSteps, sms()] }, [['workflow', /1 to 10/]]],
    [{ template: 'failover', workflow: [messenger(), sms()] }, [['workflow[0].failover', /required/]]],
    [{ template: 'failover', workflow: [messenger(readIn600), sms(readIn600)] }, [['workflow[1].failover', /last step/]]],
    [{ template: 'failover', workflow: [messenger({ expiry_time: 14, condition_status: 'read' }), sms()] }, [['workflow[0].failover.expiry_time', /15 to 86400/]]],
    [{ template: 'failover', workflow: [messenger({ expiry_time: 86401, condition_status: 'read' }), sms()] }, [['workflow[0].failover.expiry_time', /15 to 86400/]]],
    [{ template: 'failover', workflow: [messenger({ expiry_time: 60.5, condition_status: 'read' }), sms()] }, [['workflow[0].failover.expiry_time', /integer/]]],
    [{ template: 'failover', workflow: [messenger({ expiry_time: 'soon', condition_status: 'read' }), sms()] }, [['workflow[0].failover.expiry_time', /integer/]]],
    [{ template: 'failover', workflow: [messenger({ condition_status: 'read' }), sms()] }, [['workflow[0].failover.expiry_time', /required/]]],
    [{ template: 'failover', workflow: [messenger({ expiry_time: 600, condition_status: 'seen' }), sms()] }, [['workflow[0].failover.condition_status', /delivered, read/]]],
    [{ template: 'failover', workflow: [sms(readIn600), sms()] }, [['workflow[0].failover.condition_status', /delivered for channel sms/]]],
    [{ template: 'failover', workflow: ['step', sms()] }, [['workflow[0]', /object/]]],
    [{ template: 'failover', workflow: [{ ...messenger(readIn600), to: { type: 'messenger' } }, sms()] }, [['workflow[0].to.id', /required/]]],
    [{ template: 'failover', workflow: [messenger(readIn600), { ...sms(), message: { content: { type: 'text', text: 5 } } }] }, [['workflow[1].message.content.text', /string/]]],
    [{ template: 'failover', workflow: [null, messenger(), sms(readIn600)] }, [['workflow[1].failover', /required/], ['workflow[2].failover', /last step/]]],
  ];
  for (const [body, expected] of cases) {
    const result = validateDispatchRequest(body);
    assert.equal(result.ok, false, JSON.stringify(body));
    if (result.ok) continue;
    assert.deepEqual(result.errors.map((e) => e.name), expected.map(([name]) => name), JSON.stringify(body));
    result.errors.forEach((error, i) => assert.match(error.reason, expected[i]![1], `${error.name}: ${error.reason}`));
  }
});
