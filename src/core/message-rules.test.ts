import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel } from './channel.js';
import type { InvalidParameter } from './validation.js';
import { validateMessageParts, validateOutboundMessage } from './message-rules.js';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// helpers

const IMAGE_URL = 'https://example.com/cat.jpg';

/** A valid body per channel; tests clone one and change a single field. */
const VALID: Record<Channel, Json> = {
  sms: {
    to: { type: 'sms', number: '447700900000' },
    from: { type: 'sms', number: '447700900001' },
    message: { content: { type: 'text', text: 'Hello' } },
  },
  mms: {
    to: { type: 'mms', number: '14155550100' },
    from: { type: 'mms', number: '14155550101' },
    message: { content: { type: 'image', image: { url: IMAGE_URL, caption: 'A cat' } } },
  },
  whatsapp: {
    to: { type: 'whatsapp', number: '447700900000' },
    from: { type: 'whatsapp', number: '447700900001' },
    message: { content: { type: 'text', text: 'Hello' } },
  },
  messenger: {
    to: { type: 'messenger', id: '1234567890' },
    from: { type: 'messenger', id: '9876543210' },
    message: { content: { type: 'text', text: 'Hello' } },
  },
  viber_service_msg: {
    to: { type: 'viber_service_msg', number: '447700900000' },
    from: { type: 'viber_service_msg', id: '16273' },
    message: { content: { type: 'text', text: 'Hello' } },
  },
};

/**
 * The valid body of `channel` with each `path: value` applied ('a.b.c' or 'a.b[0]');
 * `undefined` deletes the key.
 */
function bodyWith(channel: Channel, changes: Record<string, unknown> = {}): Json {
  const body = structuredClone(VALID[channel]);
  for (const [path, value] of Object.entries(changes)) setPath(body, path, value);
  return body;
}

function setPath(target: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node = target;
  for (const key of keys) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Json;
  }
  if (value === undefined) delete node[last];
  else node[last] = value;
}

function errorsOf(body: unknown): InvalidParameter[] {
  const result = validateOutboundMessage(body);
  if (result.ok) return [];
  assert.ok(result.errors.length > 0, 'an invalid result must carry errors');
  return result.errors;
}

const namesOf = (body: unknown): string[] => errorsOf(body).map((e) => e.name);

function valueOf(body: unknown) {
  const result = validateOutboundMessage(body);
  assert.ok(result.ok, `expected valid, got ${JSON.stringify(result.ok ? [] : result.errors)}`);
  return result.value;
}

function reasonOf(body: unknown, name: string): string {
  const error = errorsOf(body).find((e) => e.name === name);
  assert.ok(error, `no error named ${name} in ${JSON.stringify(errorsOf(body))}`);
  return error.reason;
}

/** A string of exactly `length` characters. */
const chars = (length: number, char = 'a'): string => char.repeat(length);
/** An https URL of exactly `length` characters. */
const urlOf = (length: number): string => 'https://example.com/' + chars(length - 'https://example.com/'.length);

/** Table rows: a change to one channel's valid body and the error names expected ([] = valid). */
interface Case {
  title: string;
  channel: Channel;
  changes: Record<string, unknown>;
  errors: string[];
}

function runCases(cases: Case[]): void {
  for (const c of cases) {
    it(`${c.channel}: ${c.title} → ${c.errors.length === 0 ? 'valid' : c.errors.join(', ')}`, () => {
      assert.deepEqual(namesOf(bodyWith(c.channel, c.changes)), c.errors);
    });
  }
}

// ---------------------------------------------------------------------------------------------

describe('validateOutboundMessage: a valid example per channel', () => {
  for (const channel of Object.keys(VALID) as Channel[]) {
    it(`${channel} passes and comes back unchanged`, () => {
      assert.deepEqual(valueOf(VALID[channel]), VALID[channel]);
    });
  }

  it('keeps client_ref', () => {
    assert.equal(valueOf({ ...VALID.sms, client_ref: 'my-ref' }).client_ref, 'my-ref');
  });

  it('treats null as absent for optional fields', () => {
    const value = valueOf(bodyWith('mms', { client_ref: null, 'message.content.image.caption': null }));
    assert.equal('client_ref' in value, false);
    assert.deepEqual(value.message.content.image, { url: IMAGE_URL });
  });
});

describe('validateOutboundMessage: the body', () => {
  for (const body of [null, undefined, [], 'text', 42, true]) {
    it(`refuses ${JSON.stringify(body)}`, () => {
      assert.deepEqual(errorsOf(body), [{ name: 'body', reason: 'must be a JSON object' }]);
    });
  }

  it('reports to, from and message missing from an empty object', () => {
    assert.deepEqual(errorsOf({}), [
      { name: 'to', reason: 'is required' },
      { name: 'from', reason: 'is required' },
      { name: 'message', reason: 'is required' },
    ]);
  });
});

describe('validateOutboundMessage: to / from', () => {
  describe('structure and type', () => {
    runCases([
      { title: 'to missing', channel: 'sms', changes: { to: undefined }, errors: ['to'] },
      { title: 'to a string', channel: 'sms', changes: { to: '447700900000' }, errors: ['to'] },
      { title: 'from an array', channel: 'sms', changes: { from: [] }, errors: ['from'] },
      { title: 'to.type missing', channel: 'sms', changes: { 'to.type': undefined }, errors: ['to.type'] },
      { title: 'to.type unknown', channel: 'sms', changes: { 'to.type': 'fax' }, errors: ['to.type'] },
      { title: 'from.type a number', channel: 'sms', changes: { 'from.type': 1 }, errors: ['from.type'] },
      { title: 'from.type differs from to.type', channel: 'sms', changes: { 'from.type': 'whatsapp' }, errors: ['from.type'] },
      {
        title: 'from.type differs and from lacks its own field',
        channel: 'sms',
        changes: { 'from.type': 'messenger' },
        errors: ['from.type', 'from.id'],
      },
    ]);

    it('names the expected type when from.type differs', () => {
      assert.equal(reasonOf(bodyWith('sms', { 'from.type': 'whatsapp' }), 'from.type'), 'must be the same as to.type (sms)');
    });

    it('lists the channels when the type is unknown', () => {
      assert.match(reasonOf(bodyWith('sms', { 'to.type': 'fax' }), 'to.type'), /sms, mms, whatsapp, messenger, viber_service_msg/);
    });
  });

  describe('which field each channel uses', () => {
    runCases([
      { title: 'to.number missing', channel: 'sms', changes: { 'to.number': undefined }, errors: ['to.number'] },
      { title: 'from.number missing', channel: 'mms', changes: { 'from.number': undefined }, errors: ['from.number'] },
      { title: 'to.number null', channel: 'whatsapp', changes: { 'to.number': null }, errors: ['to.number'] },
      {
        title: 'id instead of number',
        channel: 'whatsapp',
        changes: { 'to.number': undefined, 'to.id': '447700900000' },
        errors: ['to.number'],
      },
      {
        title: 'number instead of id',
        channel: 'messenger',
        changes: { 'to.id': undefined, 'to.number': '1234567890' },
        errors: ['to.id'],
      },
      { title: 'from.id missing', channel: 'messenger', changes: { 'from.id': undefined }, errors: ['from.id'] },
      {
        title: 'to.id instead of to.number',
        channel: 'viber_service_msg',
        changes: { 'to.number': undefined, 'to.id': '447700900000' },
        errors: ['to.number'],
      },
      {
        title: 'from.number instead of from.id',
        channel: 'viber_service_msg',
        changes: { 'from.id': undefined, 'from.number': '16273' },
        errors: ['from.id'],
      },
    ]);

    it('says which channel needs the field', () => {
      assert.equal(reasonOf(bodyWith('sms', { 'to.number': undefined }), 'to.number'), 'is required for channel sms');
      assert.equal(reasonOf(bodyWith('messenger', { 'from.id': undefined }), 'from.id'), 'is required for channel messenger');
    });

    it('drops unknown and unused fields of to/from', () => {
      const value = valueOf(
        bodyWith('messenger', { 'to.number': '447700900000', 'to.name': 'Ann', 'from.extra': { a: 1 } }),
      );
      assert.deepEqual(value.to, { type: 'messenger', id: '1234567890' });
      assert.deepEqual(value.from, { type: 'messenger', id: '9876543210' });
    });
  });

  describe('E.164 numbers', () => {
    const cases: Array<[string, unknown, boolean]> = [
      ['12 digits', '447700900000', true],
      ['7 digits (shortest)', '1234567', true],
      ['15 digits (longest)', '123456789012345', true],
      ['6 digits', '123456', false],
      ['16 digits', '1234567890123456', false],
      ['leading +', '+447700900000', false],
      ['leading 00', '00447700900000', false],
      ['leading 0', '07700900000', false],
      ['spaces', '44 7700 900000', false],
      ['dashes', '44-7700-900000', false],
      ['letters', 'MyBrand', false],
      ['empty', '', false],
    ];
    for (const channel of ['sms', 'mms', 'whatsapp', 'viber_service_msg'] as const) {
      for (const [title, number, ok] of cases) {
        it(`${channel} to.number ${title} → ${ok ? 'valid' : 'error'}`, () => {
          assert.deepEqual(namesOf(bodyWith(channel, { 'to.number': number })), ok ? [] : ['to.number']);
        });
      }
    }
    for (const channel of ['mms', 'whatsapp'] as const) {
      for (const [title, number, ok] of cases) {
        it(`${channel} from.number ${title} → ${ok ? 'valid' : 'error'}`, () => {
          assert.deepEqual(namesOf(bodyWith(channel, { 'from.number': number })), ok ? [] : ['from.number']);
        });
      }
    }

    it('explains the format', () => {
      assert.match(reasonOf(bodyWith('sms', { 'to.number': '+447700900000' }), 'to.number'), /E\.164.*without '\+' or '00'/);
    });
  });

  describe('sms from: a number or an alphanumeric sender ID', () => {
    const cases: Array<[string, string, boolean]> = [
      ['E.164 number', '447700900000', true],
      ['15-digit number', '123456789012345', true],
      ['short code', '12345', true],
      ['one character', 'A', true],
      ['word', 'MyBrand', true],
      ['inner space', 'My Brand', true],
      ['11 characters', 'ABCDEFGHIJK', true],
      ['12 characters', 'ABCDEFGHIJKL', false],
      ['16 digits', '1234567890123456', false],
      ['leading space', ' Brand', false],
      ['trailing space', 'Brand ', false],
      ['punctuation', 'Br@nd', false],
      ['leading +', '+447700900000', false],
      ['non-ASCII letter', 'Café', false],
      ['empty', '', false],
    ];
    for (const [title, number, ok] of cases) {
      it(`${title} (${JSON.stringify(number)}) → ${ok ? 'valid' : 'error'}`, () => {
        assert.deepEqual(namesOf(bodyWith('sms', { 'from.number': number })), ok ? [] : ['from.number']);
      });
    }

    it('is only for sms from', () => {
      assert.deepEqual(namesOf(bodyWith('sms', { 'to.number': 'MyBrand' })), ['to.number']);
      assert.deepEqual(namesOf(bodyWith('whatsapp', { 'from.number': 'MyBrand' })), ['from.number']);
      assert.deepEqual(namesOf(bodyWith('mms', { 'from.number': '12345' })), ['from.number']);
    });
  });

  describe('messenger and viber ids', () => {
    runCases([
      { title: 'digits', channel: 'messenger', changes: { 'to.id': '1234567890123456789' }, errors: [] },
      { title: 'letters', channel: 'messenger', changes: { 'from.id': 'page-abc' }, errors: [] },
      { title: '50 characters', channel: 'messenger', changes: { 'to.id': chars(50) }, errors: [] },
      { title: '51 characters', channel: 'messenger', changes: { 'to.id': chars(51) }, errors: ['to.id'] },
      { title: 'empty', channel: 'messenger', changes: { 'from.id': '' }, errors: ['from.id'] },
      { title: 'viber service id 50', channel: 'viber_service_msg', changes: { 'from.id': chars(50) }, errors: [] },
      { title: 'viber service id 51', channel: 'viber_service_msg', changes: { 'from.id': chars(51) }, errors: ['from.id'] },
      { title: 'viber service id empty', channel: 'viber_service_msg', changes: { 'from.id': '' }, errors: ['from.id'] },
    ]);
  });

  describe('numeric JSON ids and numbers are coerced to strings', () => {
    const coerced: Array<[Channel, string, number, string]> = [
      ['sms', 'to.number', 447700900000, '447700900000'],
      ['sms', 'from.number', 12345, '12345'],
      ['whatsapp', 'from.number', 447700900001, '447700900001'],
      ['messenger', 'to.id', 1234567890, '1234567890'],
      ['messenger', 'from.id', 0, '0'],
      ['viber_service_msg', 'from.id', 16273, '16273'],
      ['messenger', 'to.id', Number.MAX_SAFE_INTEGER, '9007199254740991'],
    ];
    for (const [channel, path, raw, expected] of coerced) {
      it(`${channel} ${path} ${raw} → "${expected}"`, () => {
        const value = valueOf(bodyWith(channel, { [path]: raw }));
        const [side, field] = path.split('.') as ['to' | 'from', 'id' | 'number'];
        assert.equal(value[side][field], expected);
      });
    }

    runCases([
      { title: 'fraction', channel: 'messenger', changes: { 'to.id': 1.5 }, errors: ['to.id'] },
      { title: 'negative', channel: 'messenger', changes: { 'to.id': -1 }, errors: ['to.id'] },
      { title: 'beyond 2^53', channel: 'messenger', changes: { 'to.id': 2 ** 53 }, errors: ['to.id'] },
      { title: 'boolean', channel: 'messenger', changes: { 'to.id': true }, errors: ['to.id'] },
      { title: 'object', channel: 'sms', changes: { 'to.number': { n: 1 } }, errors: ['to.number'] },
      // Coerced, then checked like any string: too short for E.164.
      { title: 'coerced but too short', channel: 'sms', changes: { 'to.number': 123 }, errors: ['to.number'] },
    ]);

    it('tells the sender to use a string for large numbers', () => {
      assert.match(reasonOf(bodyWith('messenger', { 'to.id': 2 ** 53 }), 'to.id'), /^must be a string.*2\^53/);
      assert.equal(reasonOf(bodyWith('messenger', { 'to.id': true }), 'to.id'), 'must be a string');
    });
  });
});

describe('validateOutboundMessage: content types per channel', () => {
  /** A valid content of each type. */
  const CONTENT: Record<string, Json> = {
    text: { type: 'text', text: 'Hi' },
    image: { type: 'image', image: { url: IMAGE_URL } },
    audio: { type: 'audio', audio: { url: 'https://example.com/a.mp3' } },
    video: { type: 'video', video: { url: 'https://example.com/v.mp4' } },
    file: { type: 'file', file: { url: 'https://example.com/f.pdf' } },
    template: { type: 'template', template: { name: 'ns:welcome' } },
    custom: { type: 'custom', custom: { attachment: { type: 'template' } } },
  };

  // Written out here, independently of the module (reference §2.3).
  const ALLOWED: Record<Channel, string[]> = {
    sms: ['text'],
    mms: ['image'],
    messenger: ['text', 'image', 'audio', 'video', 'file', 'custom'],
    viber_service_msg: ['text', 'image', 'template', 'custom'],
    whatsapp: ['text', 'image', 'audio', 'video', 'file', 'template', 'custom'],
  };

  for (const channel of Object.keys(ALLOWED) as Channel[]) {
    for (const type of Object.keys(CONTENT)) {
      const ok = ALLOWED[channel].includes(type);
      it(`${channel} ${type} → ${ok ? 'valid' : 'refused'}`, () => {
        // A WhatsApp template needs a locale; give every whatsapp case one.
        const message = channel === 'whatsapp' ? { content: CONTENT[type], whatsapp: { locale: 'en-GB' } } : { content: CONTENT[type] };
        const body = bodyWith(channel, { message });
        if (ok) assert.deepEqual(valueOf(body).message, message);
        else assert.deepEqual(namesOf(body), ['message.content.type']);
      });
    }
  }

  it('names the allowed types in the reason', () => {
    const body = bodyWith('viber_service_msg', { 'message.content': CONTENT.audio });
    assert.equal(
      reasonOf(body, 'message.content.type'),
      'must be one of: text, image, template, custom (the content types of channel viber_service_msg)',
    );
  });

  runCases([
    { title: 'type missing', channel: 'whatsapp', changes: { 'message.content.type': undefined }, errors: ['message.content.type'] },
    { title: 'type unknown', channel: 'whatsapp', changes: { 'message.content.type': 'location' }, errors: ['message.content.type'] },
    { title: 'type a number', channel: 'whatsapp', changes: { 'message.content.type': 1 }, errors: ['message.content.type'] },
    {
      // The refused type's payload is checked too, so both problems show at once.
      title: 'refused type with a bad payload',
      channel: 'sms',
      changes: { 'message.content': { type: 'image', image: { url: 'nope' } } },
      errors: ['message.content.type', 'message.content.image.url'],
    },
    { title: 'payload missing', channel: 'messenger', changes: { 'message.content': { type: 'image' } }, errors: ['message.content.image'] },
  ]);

  it('keeps only the payload named by the type', () => {
    const value = valueOf(
      bodyWith('messenger', { 'message.content': { type: 'text', text: 'Hi', image: { url: IMAGE_URL }, extra: 1 } }),
    );
    assert.deepEqual(value.message.content, { type: 'text', text: 'Hi' });
  });

  it('passes custom through as a copy', () => {
    const custom = { attachment: { type: 'template', payload: { a: [1, 2] } } };
    const value = valueOf(bodyWith('messenger', { 'message.content': { type: 'custom', custom } }));
    assert.deepEqual(value.message.content.custom, custom);
  });
});

describe('validateOutboundMessage: what one stored message may hold', () => {
  const whatsappTemplate = (parameters: unknown[]) =>
    bodyWith('whatsapp', { 'message.content': { type: 'template', template: { name: 'ns:welcome', parameters } }, 'message.whatsapp': { locale: 'en_GB' } });

  it('custom JSON up to 64 KB, not beyond, with the limit in the reason', () => {
    const custom = (bytes: number) => ({ blob: 'x'.repeat(bytes - '{"blob":""}'.length) });
    assert.deepEqual(errorsOf(bodyWith('messenger', { 'message.content': { type: 'custom', custom: custom(64 * 1024) } })), []);
    assert.deepEqual(errorsOf(bodyWith('messenger', { 'message.content': { type: 'custom', custom: custom(64 * 1024 + 1) } })), [
      { name: 'message.content.custom', reason: 'must be at most 64 KB as JSON' },
    ]);
  });

  it('at most 100 template parameters of at most 1024 characters each; a huge array is one problem', () => {
    assert.deepEqual(errorsOf(whatsappTemplate(Array.from({ length: 100 }, () => 'p'.repeat(1024)))), []);
    assert.deepEqual(errorsOf(whatsappTemplate(Array.from({ length: 100_000 }, () => 'p'))), [
      { name: 'message.content.template.parameters', reason: 'must hold at most 100 parameters' },
    ]);
    assert.deepEqual(errorsOf(whatsappTemplate(['ok', 'p'.repeat(1025), { default: 'd'.repeat(1025) }])), [
      { name: 'message.content.template.parameters[1]', reason: 'must be at most 1024 characters' },
      { name: 'message.content.template.parameters[2].default', reason: 'must be at most 1024 characters' },
    ]);
  });
});

describe('validateOutboundMessage: limits at the boundary', () => {
  const viberOptions = 'message.viber_service_msg';
  runCases([
    // text, per channel
    { title: 'text 1000', channel: 'sms', changes: { 'message.content.text': chars(1000) }, errors: [] },
    { title: 'text 1001', channel: 'sms', changes: { 'message.content.text': chars(1001) }, errors: ['message.content.text'] },
    { title: 'text 1000', channel: 'viber_service_msg', changes: { 'message.content.text': chars(1000) }, errors: [] },
    { title: 'text 1001', channel: 'viber_service_msg', changes: { 'message.content.text': chars(1001) }, errors: ['message.content.text'] },
    { title: 'text 640', channel: 'messenger', changes: { 'message.content.text': chars(640) }, errors: [] },
    { title: 'text 641', channel: 'messenger', changes: { 'message.content.text': chars(641) }, errors: ['message.content.text'] },
    { title: 'text 4096', channel: 'whatsapp', changes: { 'message.content.text': chars(4096) }, errors: [] },
    { title: 'text 4097', channel: 'whatsapp', changes: { 'message.content.text': chars(4097) }, errors: ['message.content.text'] },
    { title: 'text empty', channel: 'sms', changes: { 'message.content.text': '' }, errors: ['message.content.text'] },
    // Code points, not UTF-16 units: 1000 emoji are 2000 units but 1000 characters.
    { title: 'text 1000 emoji', channel: 'sms', changes: { 'message.content.text': chars(1000, '😀') }, errors: [] },
    { title: 'text 1001 emoji', channel: 'sms', changes: { 'message.content.text': chars(1001, '😀') }, errors: ['message.content.text'] },
    // media
    { title: 'url 2000', channel: 'mms', changes: { 'message.content.image.url': urlOf(2000) }, errors: [] },
    { title: 'url 2001', channel: 'mms', changes: { 'message.content.image.url': urlOf(2001) }, errors: ['message.content.image.url'] },
    { title: 'caption 3000', channel: 'mms', changes: { 'message.content.image.caption': chars(3000) }, errors: [] },
    { title: 'caption 3001', channel: 'mms', changes: { 'message.content.image.caption': chars(3001) }, errors: ['message.content.image.caption'] },
    { title: 'caption empty', channel: 'mms', changes: { 'message.content.image.caption': '' }, errors: ['message.content.image.caption'] },
    // template
    {
      title: 'template name 512',
      channel: 'viber_service_msg',
      changes: { 'message.content': { type: 'template', template: { name: chars(512) } } },
      errors: [],
    },
    {
      title: 'template name 513',
      channel: 'viber_service_msg',
      changes: { 'message.content': { type: 'template', template: { name: chars(513) } } },
      errors: ['message.content.template.name'],
    },
    {
      title: 'template name empty',
      channel: 'viber_service_msg',
      changes: { 'message.content': { type: 'template', template: { name: '' } } },
      errors: ['message.content.template.name'],
    },
    // client_ref
    { title: 'client_ref 40', channel: 'sms', changes: { client_ref: chars(40) }, errors: [] },
    { title: 'client_ref 41', channel: 'sms', changes: { client_ref: chars(41) }, errors: ['client_ref'] },
    { title: 'client_ref empty', channel: 'sms', changes: { client_ref: '' }, errors: ['client_ref'] },
    // viber ttl
    { title: 'ttl 30', channel: 'viber_service_msg', changes: { [`${viberOptions}.ttl`]: 30 }, errors: [] },
    { title: 'ttl 29', channel: 'viber_service_msg', changes: { [`${viberOptions}.ttl`]: 29 }, errors: [`${viberOptions}.ttl`] },
    { title: 'ttl 259200', channel: 'viber_service_msg', changes: { [`${viberOptions}.ttl`]: 259200 }, errors: [] },
    { title: 'ttl 259201', channel: 'viber_service_msg', changes: { [`${viberOptions}.ttl`]: 259201 }, errors: [`${viberOptions}.ttl`] },
    // whatsapp locale
    { title: 'locale 2', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 'en' }, errors: [] },
    { title: 'locale 1', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 'e' }, errors: ['message.whatsapp.locale'] },
    { title: 'locale 20', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 'en-' + chars(17) }, errors: [] },
    { title: 'locale 21', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 'en-' + chars(18) }, errors: ['message.whatsapp.locale'] },
  ]);

  it('says the channel limit in the reason', () => {
    const body = bodyWith('messenger', { 'message.content.text': chars(641) });
    assert.equal(reasonOf(body, 'message.content.text'), 'must be 1 to 640 characters on channel messenger');
  });
});

describe('validateOutboundMessage: media', () => {
  const cases: Array<[string, unknown, boolean]> = [
    ['https', 'https://example.com/cat.jpg', true],
    ['http', 'http://example.com/cat.jpg', true],
    ['no extension', 'https://cdn.example.com/media/12345?sig=abc', true],
    ['port and path', 'http://localhost:8080/a/b', true],
    ['ftp', 'ftp://example.com/cat.jpg', false],
    ['data URL', 'data:image/png;base64,AAAA', false],
    ['relative', '/cat.jpg', false],
    ['no scheme', 'example.com/cat.jpg', false],
    ['not a URL', 'not a url', false],
    ['empty', '', false],
    ['a number', 42, false],
    ['missing', undefined, false],
  ];
  for (const kind of ['image', 'audio', 'video', 'file'] as const) {
    for (const [title, url, ok] of cases) {
      it(`whatsapp ${kind}.url ${title} → ${ok ? 'valid' : 'error'}`, () => {
        const body = bodyWith('whatsapp', { 'message.content': { type: kind, [kind]: { url } } });
        assert.deepEqual(namesOf(body), ok ? [] : [`message.content.${kind}.url`]);
      });
    }
  }

  it('accepts a caption on any media type and channel, and drops unknown media fields', () => {
    const body = bodyWith('messenger', {
      'message.content': { type: 'audio', audio: { url: 'https://example.com/a.mp3', caption: 'Listen', size: 3 } },
    });
    assert.deepEqual(valueOf(body).message.content.audio, { url: 'https://example.com/a.mp3', caption: 'Listen' });
  });
});

describe('validateOutboundMessage: type errors name the exact field', () => {
  const cases: Array<[string, Channel, Record<string, unknown>, InvalidParameter]> = [
    ['message a string', 'sms', { message: 'Hello' }, { name: 'message', reason: 'must be a JSON object' }],
    ['content missing', 'sms', { 'message.content': undefined }, { name: 'message.content', reason: 'is required' }],
    ['content a string', 'sms', { 'message.content': 'Hello' }, { name: 'message.content', reason: 'must be a JSON object' }],
    ['text a number', 'sms', { 'message.content.text': 42 }, { name: 'message.content.text', reason: 'must be a string' }],
    ['text missing', 'sms', { 'message.content.text': undefined }, { name: 'message.content.text', reason: 'is required' }],
    ['image a string', 'mms', { 'message.content.image': IMAGE_URL }, { name: 'message.content.image', reason: 'must be a JSON object' }],
    ['caption a number', 'mms', { 'message.content.image.caption': 1 }, { name: 'message.content.image.caption', reason: 'must be a string' }],
    ['url not http', 'mms', { 'message.content.image.url': 'ftp://x/y' }, { name: 'message.content.image.url', reason: 'must be an absolute http or https URL' }],
    ['custom an array', 'messenger', { 'message.content': { type: 'custom', custom: [] } }, { name: 'message.content.custom', reason: 'must be a JSON object' }],
    ['custom a string', 'messenger', { 'message.content': { type: 'custom', custom: '{}' } }, { name: 'message.content.custom', reason: 'must be a JSON object' }],
    ['custom null', 'messenger', { 'message.content': { type: 'custom', custom: null } }, { name: 'message.content.custom', reason: 'is required' }],
    ['client_ref a number', 'sms', { client_ref: 7 }, { name: 'client_ref', reason: 'must be a string' }],
  ];
  for (const [title, channel, changes, error] of cases) {
    it(`${channel}: ${title}`, () => {
      assert.deepEqual(errorsOf(bodyWith(channel, changes)), [error]);
    });
  }
});

describe('validateOutboundMessage: templates', () => {
  const viberTemplate = (template: unknown) => bodyWith('viber_service_msg', { 'message.content': { type: 'template', template } });

  const shapes: Array<[string, unknown[]]> = [
    ['plain strings (MSG 0.4.0)', ['Ann', '42']],
    ['{default} objects (Dispatch, MSG 0.3.6)', [{ default: 'Ann' }, { default: '42' }]],
    ['mixed', ['Ann', { default: '42' }]],
    ['empty', []],
  ];
  for (const [title, parameters] of shapes) {
    it(`accepts parameters as ${title}`, () => {
      assert.deepEqual(valueOf(viberTemplate({ name: 'ns:t', parameters })).message.content.template, { name: 'ns:t', parameters });
    });
  }

  it('drops unknown fields of the template and of {default} parameters', () => {
    const value = valueOf(viberTemplate({ name: 'ns:t', parameters: [{ default: 'a', x: 1 }], lang: 'en' }));
    assert.deepEqual(value.message.content.template, { name: 'ns:t', parameters: [{ default: 'a' }] });
  });

  const bad: Array<[string, unknown, string[]]> = [
    ['template a string', 'ns:t', ['message.content.template']],
    ['name missing', { parameters: ['a'] }, ['message.content.template.name']],
    ['name a number', { name: 5 }, ['message.content.template.name']],
    ['parameters an object', { name: 'ns:t', parameters: { default: 'a' } }, ['message.content.template.parameters']],
    [
      'bad items, each named',
      { name: 'ns:t', parameters: ['ok', 1, { default: 2 }, {}, null] },
      [
        'message.content.template.parameters[1]',
        'message.content.template.parameters[2].default',
        'message.content.template.parameters[3].default',
        'message.content.template.parameters[4]',
      ],
    ],
  ];
  for (const [title, template, names] of bad) {
    it(`refuses ${title}`, () => {
      assert.deepEqual(namesOf(viberTemplate(template)), names);
    });
  }

  describe('whatsapp templates need message.whatsapp.locale', () => {
    const whatsappTemplate = { type: 'template', template: { name: 'ns:welcome', parameters: [{ default: 'Ann' }] } };
    runCases([
      { title: 'with locale', channel: 'whatsapp', changes: { 'message.content': whatsappTemplate, 'message.whatsapp.locale': 'en_GB' }, errors: [] },
      { title: 'without options', channel: 'whatsapp', changes: { 'message.content': whatsappTemplate }, errors: ['message.whatsapp.locale'] },
      {
        title: 'options without locale',
        channel: 'whatsapp',
        changes: { 'message.content': whatsappTemplate, 'message.whatsapp': { policy: 'deterministic' } },
        errors: ['message.whatsapp.locale'],
      },
      {
        title: 'locale null',
        channel: 'whatsapp',
        changes: { 'message.content': whatsappTemplate, 'message.whatsapp.locale': null },
        errors: ['message.whatsapp.locale'],
      },
      {
        title: 'bad locale, reported once',
        channel: 'whatsapp',
        changes: { 'message.content': whatsappTemplate, 'message.whatsapp.locale': 'en GB' },
        errors: ['message.whatsapp.locale'],
      },
      { title: 'viber template needs none', channel: 'viber_service_msg', changes: { 'message.content': whatsappTemplate }, errors: [] },
    ]);

    it('says why', () => {
      const body = bodyWith('whatsapp', { 'message.content': whatsappTemplate });
      assert.equal(reasonOf(body, 'message.whatsapp.locale'), 'is required for a whatsapp template');
    });
  });
});

describe('validateOutboundMessage: per-channel options', () => {
  describe('messenger', () => {
    runCases([
      { title: 'category response', channel: 'messenger', changes: { 'message.messenger.category': 'response' }, errors: [] },
      { title: 'category update', channel: 'messenger', changes: { 'message.messenger.category': 'update' }, errors: [] },
      {
        title: 'category message_tag with tag',
        channel: 'messenger',
        changes: { 'message.messenger': { category: 'message_tag', tag: 'CONFIRMED_EVENT_UPDATE' } },
        errors: [],
      },
      {
        title: 'category message_tag without tag',
        channel: 'messenger',
        changes: { 'message.messenger': { category: 'message_tag' } },
        errors: ['message.messenger.tag'],
      },
      { title: 'category unknown', channel: 'messenger', changes: { 'message.messenger.category': 'promo' }, errors: ['message.messenger.category'] },
      { title: 'tag a number', channel: 'messenger', changes: { 'message.messenger.tag': 5 }, errors: ['message.messenger.tag'] },
      { title: 'options a string', channel: 'messenger', changes: { 'message.messenger': 'update' }, errors: ['message.messenger'] },
    ]);

    it('keeps category and tag', () => {
      const options = { category: 'message_tag', tag: 'ticket_update' };
      assert.deepEqual(valueOf(bodyWith('messenger', { 'message.messenger': options })).message.messenger, options);
    });
  });

  describe('viber_service_msg', () => {
    const v = 'message.viber_service_msg';
    runCases([
      { title: 'category transaction', channel: 'viber_service_msg', changes: { [`${v}.category`]: 'transaction' }, errors: [] },
      { title: 'category promotion', channel: 'viber_service_msg', changes: { [`${v}.category`]: 'promotion' }, errors: [] },
      { title: 'category unknown', channel: 'viber_service_msg', changes: { [`${v}.category`]: 'update' }, errors: [`${v}.category`] },
      { title: 'ttl a fraction', channel: 'viber_service_msg', changes: { [`${v}.ttl`]: 60.5 }, errors: [`${v}.ttl`] },
      { title: 'ttl a string', channel: 'viber_service_msg', changes: { [`${v}.ttl`]: '60' }, errors: [`${v}.ttl`] },
      { title: 'type a string', channel: 'viber_service_msg', changes: { [`${v}.type`]: 'template' }, errors: [] },
      { title: 'type a number', channel: 'viber_service_msg', changes: { [`${v}.type`]: 1 }, errors: [`${v}.type`] },
    ]);

    it('keeps category, ttl and type', () => {
      const options = { category: 'promotion', ttl: 600, type: 'template' };
      assert.deepEqual(valueOf(bodyWith('viber_service_msg', { [v]: options })).message.viber_service_msg, options);
    });
  });

  describe('whatsapp', () => {
    runCases([
      { title: 'policy deterministic', channel: 'whatsapp', changes: { 'message.whatsapp.policy': 'deterministic' }, errors: [] },
      { title: 'policy fallback', channel: 'whatsapp', changes: { 'message.whatsapp.policy': 'fallback' }, errors: ['message.whatsapp.policy'] },
      { title: 'policy unknown', channel: 'whatsapp', changes: { 'message.whatsapp.policy': 'random' }, errors: ['message.whatsapp.policy'] },
      { title: 'locale en-GB', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 'en-GB' }, errors: [] },
      { title: 'locale en_GB', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 'en_GB' }, errors: [] },
      { title: 'locale zh-Hant-TW', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 'zh-Hant-TW' }, errors: [] },
      { title: 'locale with a space', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 'en GB' }, errors: ['message.whatsapp.locale'] },
      { title: 'locale leading dash', channel: 'whatsapp', changes: { 'message.whatsapp.locale': '-en' }, errors: ['message.whatsapp.locale'] },
      { title: 'locale trailing dash', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 'en-' }, errors: ['message.whatsapp.locale'] },
      { title: 'locale a number', channel: 'whatsapp', changes: { 'message.whatsapp.locale': 1 }, errors: ['message.whatsapp.locale'] },
    ]);

    it("says 'fallback' is no longer supported", () => {
      const body = bodyWith('whatsapp', { 'message.whatsapp.policy': 'fallback' });
      assert.match(reasonOf(body, 'message.whatsapp.policy'), /no longer supported/);
    });
  });

  describe("another channel's options are ignored and dropped", () => {
    const foreign = {
      messenger: { category: 'bogus' },
      viber_service_msg: { ttl: 1 },
      whatsapp: { policy: 'fallback' },
    };
    for (const channel of ['sms', 'mms'] as const) {
      it(channel, () => {
        const message = valueOf(bodyWith(channel, { 'message.messenger': foreign.messenger, 'message.viber_service_msg': foreign.viber_service_msg, 'message.whatsapp': foreign.whatsapp })).message;
        assert.deepEqual(Object.keys(message), ['content']);
      });
    }
    it('messenger keeps only its own', () => {
      const body = bodyWith('messenger', { 'message.messenger.category': 'update', 'message.whatsapp': foreign.whatsapp });
      assert.deepEqual(valueOf(body).message, { content: { type: 'text', text: 'Hello' }, messenger: { category: 'update' } });
    });
  });
});

describe('validateOutboundMessage: normalisation', () => {
  it('drops unknown fields at every level and coerces ids', () => {
    const body = {
      to: { type: 'messenger', id: 1234567890, nickname: 'ann' },
      from: { type: 'messenger', id: '111', number: '447700900000' },
      message: {
        content: { type: 'text', text: 'Hi', extra: true },
        messenger: { category: 'update', unknown: 1 },
        callback: 'https://example.com',
      },
      client_ref: 'r1',
      template: 'failover',
    };
    assert.deepEqual(valueOf(body), {
      to: { type: 'messenger', id: '1234567890' },
      from: { type: 'messenger', id: '111' },
      message: { content: { type: 'text', text: 'Hi' }, messenger: { category: 'update' } },
      client_ref: 'r1',
    });
  });

  it('does not change its input', () => {
    const body = bodyWith('messenger', { 'to.id': 42 });
    const copy = structuredClone(body);
    validateOutboundMessage(body);
    assert.deepEqual(body, copy);
  });
});

describe('validateOutboundMessage: every bad field is reported together', () => {
  it('in one body', () => {
    const body = {
      to: { type: 'sms', number: '+447700900000' },
      from: { type: 'whatsapp', number: 'Brand' },
      message: {
        content: { type: 'text', text: 42 },
      },
      client_ref: chars(41),
    };
    assert.deepEqual(errorsOf(body), [
      { name: 'to.number', reason: "must be an E.164 number without '+' or '00': 7 to 15 digits, not starting with 0 (e.g. 447700900000)" },
      { name: 'from.type', reason: 'must be the same as to.type (sms)' },
      { name: 'from.number', reason: "must be an E.164 number without '+' or '00': 7 to 15 digits, not starting with 0 (e.g. 447700900000)" },
      { name: 'message.content.text', reason: 'must be a string' },
      { name: 'client_ref', reason: 'must be 1 to 40 characters' },
    ]);
  });

  it('inside content, media and options', () => {
    const body = bodyWith('whatsapp', {
      'message.content': { type: 'image', image: { url: 'ftp://x', caption: chars(3001) } },
      'message.whatsapp': { policy: 'fallback', locale: 'x' },
    });
    assert.deepEqual(namesOf(body), [
      'message.content.image.url',
      'message.content.image.caption',
      'message.whatsapp.policy',
      'message.whatsapp.locale',
    ]);
  });

  it('checks content against from.type when to.type is unusable', () => {
    const body = bodyWith('sms', { 'to.type': 'fax', 'message.content.text': chars(1001) });
    assert.deepEqual(namesOf(body), ['to.type', 'message.content.text']);
  });

  it('still checks content structure when no channel is known', () => {
    const body = { to: {}, from: { type: 'carrier-pigeon' }, message: { content: { type: 'image', image: {} } } };
    assert.deepEqual(namesOf(body), ['to.type', 'from.type', 'message.content.image.url']);
  });
});

describe('validateMessageParts', () => {
  const step = (changes: Record<string, unknown> = {}) => {
    const { to, from, message } = bodyWith('messenger', changes);
    return { to, from, message };
  };

  it('accepts a valid step and returns it normalised, without client_ref', () => {
    const parts = { ...step({ 'to.id': 1234567890 }), client_ref: 'ignored' };
    const result = validateMessageParts(parts, 'workflow[0].');
    assert.ok(result.ok);
    assert.deepEqual(result.value, {
      to: { type: 'messenger', id: '1234567890' },
      from: { type: 'messenger', id: '9876543210' },
      message: { content: { type: 'text', text: 'Hello' } },
    });
  });

  it('ignores client_ref, even a bad one', () => {
    assert.ok(validateMessageParts({ ...step(), client_ref: 5 } as Parameters<typeof validateMessageParts>[0], '').ok);
  });

  it('prefixes every error name', () => {
    const parts = step({ 'to.id': undefined, 'from.type': 'sms', 'message.content.text': chars(641) });
    const result = validateMessageParts(parts, 'workflow[1].');
    assert.ok(!result.ok);
    assert.deepEqual(
      result.errors.map((e) => e.name),
      ['workflow[1].to.id', 'workflow[1].from.type', 'workflow[1].from.number', 'workflow[1].message.content.text'],
    );
  });

  it('prefixes the names of missing parts', () => {
    const result = validateMessageParts({ to: undefined, from: null, message: [] }, 'workflow[2].');
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, [
      { name: 'workflow[2].to', reason: 'is required' },
      { name: 'workflow[2].from', reason: 'is required' },
      { name: 'workflow[2].message', reason: 'must be a JSON object' },
    ]);
  });

  it('gives the same names as validateOutboundMessage with an empty prefix', () => {
    const parts = step({ 'to.id': '', 'message.messenger.category': 'x' });
    const result = validateMessageParts(parts, '');
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, errorsOf(parts));
  });
});
