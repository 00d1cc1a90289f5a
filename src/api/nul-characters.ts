import type { InvalidParameter } from '../core/validation.js';

/**
 * U+0000 is refused wherever a client may send text: in a path segment, a query parameter or
 * anywhere in a JSON body (values and keys alike). PostgreSQL's text and jsonb cannot hold it,
 * so the two databases would otherwise answer one request differently; no channel carries it
 * either. The answer names the field, never the client's text.
 */
export const NUL_REASON = 'must not contain the NUL character (U+0000)';

const NUL = '\u0000';
/** A name shaped like one of our fields may be echoed; any other key is the client's text. */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** The first parameter (path or query) whose name or value holds a NUL. */
export function nulInParameters(parameters: unknown, part: 'path' | 'query'): InvalidParameter | undefined {
  if (typeof parameters !== 'object' || parameters === null) return undefined;
  for (const [name, value] of Object.entries(parameters)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (name.includes(NUL) || values.some((one) => typeof one === 'string' && one.includes(NUL))) {
      return { name: FIELD_NAME.test(name) ? name : part, reason: NUL_REASON };
    }
  }
  return undefined;
}

/**
 * The first place in a JSON body that holds a NUL, named as our validation names fields
 * (`workflow[0].message.content.text`). `rawBody` lets the common case skip the walk: JSON can
 * carry a NUL only as the escape `\u0000`. The walk keeps its own stack, so no nesting depth
 * can overflow the call stack.
 */
export function nulInJsonBody(rawBody: string, body: unknown): InvalidParameter | undefined {
  if (!rawBody.includes('\\u0000')) return undefined;
  const pending: Array<{ value: unknown; name: string }> = [{ value: body, name: '' }];
  while (pending.length > 0) {
    const { value, name } = pending.pop()!;
    if (typeof value === 'string') {
      if (value.includes(NUL)) return { name: name === '' ? 'body' : name, reason: NUL_REASON };
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) pending.push({ value: value[index], name: `${name}[${index}]` });
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [key, item] = entries[index]!;
        // A key that is not shaped like a field name is named by where it sits.
        if (!FIELD_NAME.test(key)) {
          if (key.includes(NUL)) return { name: name === '' ? 'body' : name, reason: NUL_REASON };
          pending.push({ value: item, name });
        } else {
          pending.push({ value: item, name: name === '' ? key : `${name}.${key}` });
        }
      }
    }
  }
  return undefined;
}
