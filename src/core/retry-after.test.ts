import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfter } from './retry-after.js';

describe('parseRetryAfter', () => {
  const now = Date.UTC(2024, 0, 1, 0, 0, 0);
  const cases: Array<[string | string[] | undefined, number | undefined]> = [
    [undefined, undefined],
    ['', undefined],
    ['120', 120],
    [' 7 ', 7],
    ['0', 0],
    [['15', '30'], 15],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['Mon, 01 Jan 2024 00:01:30 GMT', 90],
    ['Sun, 31 Dec 2023 23:59:00 GMT', 0],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} → ${expected}`, () => {
      assert.equal(parseRetryAfter(value, now), expected);
    });
  }
});
