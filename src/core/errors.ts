/**
 * Internal errors with stable codes, as fastify gives its own (FST_ERR_…): logs, the CLI and a
 * 500 answer name the code, so an operator can search for it and tests can assert on it.
 */
export type ErrorCode =
  /** The configuration is invalid (every problem is listed). */
  | 'OD_CONFIG'
  /** A command was used wrongly. */
  | 'OD_USAGE'
  /** The database URL names a database this build cannot use. */
  | 'OD_DATABASE_UNSUPPORTED'
  /** Another server is running on this SQLite database. */
  | 'OD_DATABASE_IN_USE'
  /** The database cannot be reached (down, restarting, refusing connections): the request may be tried again. */
  | 'OD_DATABASE_UNAVAILABLE'
  /** An account with that api key exists already. */
  | 'OD_ACCOUNT_EXISTS'
  /** The account has no signature secret to sign webhooks with. */
  | 'OD_NO_SIGNATURE_SECRET'
  /** A status report kept racing other changes of its message. */
  | 'OD_RECEIPT_CONFLICT'
  /** A provider answered a send with a reference another message carries (logged; receipts go to the first). */
  | 'OD_PROVIDER_REF_REUSED'
  /** A fault without a code of its own (a bug): see the server log. */
  | 'OD_INTERNAL';

export class OpenDispatchError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OpenDispatchError';
  }
}

export const isOpenDispatchError = (error: unknown): error is OpenDispatchError => error instanceof OpenDispatchError;
