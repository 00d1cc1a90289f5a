import type { Channel } from '../../core/channel.js';
import type { LinkRecord } from '../../core/records.js';
import type { EngineContext } from '../engine-context.js';
import { findOwnApplication } from './applications.js';

/**
 * Links (DESIGN §4): which application a business address's inbound messages go to, ahead of
 * the conversation rule. An address is one account's: another account's link is refused, not
 * replaced, and so is a link to an address another account sends from while this one never
 * has (a tenant cannot take over a number or a page in use by another). An account holds at
 * most this many, each a row every inbound message may look up.
 */
export const MAX_LINKS_PER_ACCOUNT = 10_000;

export type LinkOutcome = 'linked' | 'unknown-application' | 'taken' | 'limit';

export async function linkAddress(ctx: EngineContext, apiKey: string, applicationId: string, channel: Channel, address: string): Promise<LinkOutcome> {
  if (!(await findOwnApplication(ctx, apiKey, applicationId))) return 'unknown-application';
  if ((await ctx.store.sentFromByAnotherAccount(channel, address, apiKey)) && !(await ctx.store.sentFromByAccount(channel, address, apiKey))) return 'taken';
  return ctx.store.putLink({ channel, address, apiKey, applicationId, createdAt: ctx.clock.wallNow() }, MAX_LINKS_PER_ACCOUNT);
}

/** False for an application that is not the account's, or a link it does not have. */
export async function unlinkAddress(ctx: EngineContext, apiKey: string, applicationId: string, channel: Channel, address: string): Promise<boolean> {
  if (!(await findOwnApplication(ctx, apiKey, applicationId))) return false;
  return ctx.store.deleteLink(applicationId, channel, address);
}

/** Undefined for an application that is not the account's. */
export async function listLinks(ctx: EngineContext, apiKey: string, applicationId: string): Promise<LinkRecord[] | undefined> {
  if (!(await findOwnApplication(ctx, apiKey, applicationId))) return undefined;
  return ctx.store.listLinks(applicationId);
}
