/**
 * Internal errors with stable codes, as fastify gives its own (FST_ERR_…): logs, the CLI and a
 * 500 answer name the code, so an operator can search for it and tests can assert on it.
 */
export const ERROR_CODES = {
  OD_CONFIG: 'the configuration is invalid',
  OD_USAGE: 'a command was used wrongly',
  OD_DATABASE_UNSUPPORTED: 'the database URL names a database this build cannot use',
  OD_ACCOUNT_EXISTS: 'an account with that api key exists already',
  OD_NO_SIGNATURE_SECRET: 'the account has no signature secret to sign webhooks with',
  OD_RECEIPT_CONFLICT: 'a status report kept racing other changes of its message',
  OD_INTERNAL: 'a fault without a code of its own (a bug): see the server log',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

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
