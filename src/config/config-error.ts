import { OpenDispatchError } from '../core/errors.js';

/** Every problem of a configuration at once, one line each, so a start fails only once per fix. */
export class ConfigError extends OpenDispatchError {
  constructor(readonly problems: readonly string[]) {
    super('OD_CONFIG', problems.length === 1 ? `configuration: ${problems[0]}` : `configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
