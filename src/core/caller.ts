import type { WebhookTargets } from './webhook-targets.js';

/** Who is calling: always an account; with a JWT also the application it names. */
export interface Caller {
  apiKey: string;
  applicationId?: string;
  method: 'jwt' | 'basic';
  /** Where this caller's webhooks go: the application's, or with Basic auth the account's defaults. */
  targets: WebhookTargets;
}

/**
 * Whether a caller may see a message or dispatch: a JWT sees its application's, Basic auth every
 * one of the account. Anything else is answered as if it did not exist (404).
 */
export function canSee(caller: Caller, record: { apiKey: string; applicationId?: string }): boolean {
  if (record.apiKey !== caller.apiKey) return false;
  return caller.method === 'basic' || record.applicationId === caller.applicationId;
}
