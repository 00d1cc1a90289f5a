import { z } from 'zod';

/**
 * The building blocks of the config schemas (config-schema.ts, provider-schema.ts). Numbers may
 * be numeric strings ("64"), since `${NAME}` substitution and environment variables produce
 * strings; every error says what the setting takes.
 */

/** An object that refuses unknown keys, saying which keys it takes. */
export function settings<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, { error: (issue) => (issue.code === 'unrecognized_keys' ? `takes ${known}` : undefined) });
}

const numericString = (value: unknown): unknown => (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value);

export function wholeNumber(min: number, max?: number) {
  const error = max === undefined ? `must be a whole number >= ${min}` : `must be a whole number from ${min} to ${max}`;
  const number = z.number({ error }).int({ error }).min(min, { error });
  return z.preprocess(numericString, max === undefined ? number : number.max(max, { error }));
}

export function number(min: number) {
  const error = `must be a number >= ${min}`;
  return z.preprocess(numericString, z.number({ error }).min(min, { error }));
}

export function numberBetween(min: number, max: number) {
  const error = `must be a number from ${min} to ${max}`;
  return z.preprocess(numericString, z.number({ error }).min(min, { error }).max(max, { error }));
}

export function positiveNumber() {
  const error = 'must be a number > 0';
  return z.preprocess(numericString, z.number({ error }).positive({ error }));
}

export const text = z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http or https URL' });
