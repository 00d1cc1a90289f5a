/** One entry of a problem+json `invalid_parameters` array. */
export interface InvalidParameter {
  name: string;
  reason: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: InvalidParameter[] };

export const valid = <T>(value: T): Validation<T> => ({ ok: true, value });
export const invalid = <T>(errors: InvalidParameter[]): Validation<T> => ({ ok: false, errors });
