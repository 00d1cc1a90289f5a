import { OpenDispatchError } from '../core/errors.js';

/** A failure the user can fix: printed as one line, exit code 1, no stack trace. */
export class UsageError extends OpenDispatchError {
  constructor(message: string) {
    super('OD_USAGE', message);
    this.name = 'UsageError';
  }
}
