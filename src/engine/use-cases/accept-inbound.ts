import type { InboundReport } from '../../channels/channel-adapter.js';
import { addressValue } from '../../core/channel.js';
import { OpenDispatchError } from '../../core/errors.js';
import type { AccountRecord, ApplicationRecord, MessageRecord } from '../../core/records.js';
import { inboundMessagePayload } from '../../core/webhook-payloads.js';
import { accountTargets, applicationTargets } from '../../core/webhook-targets.js';
import { mergeChanges } from '../../store/merge-changes.js';
import type { ChangeSet } from '../../store/store.js';
import type { EngineContext } from '../engine-context.js';
import { newId } from '../ids.js';
import { webhookDelivery } from '../webhook-delivery.js';

export type InboundOutcome =
  | { accepted: true; messageUuid: string }
  /** Nowhere to deliver it: no account could be told apart, or it has no inbound URL. */
  | { accepted: false; reason: 'no-account' | 'no-inbound-url' };

/**
 * A user wrote to one of our business addresses. It goes (DESIGN §3) to the application linked
 * to that address, else to the application that last wrote to that user from that address, else
 * to the account's default inbound URL, as a stored inbound message and an inbound webhook.
 * (A link of one account never takes the conversations of another: inboundRecipient.)
 */
export async function acceptInbound(ctx: EngineContext, provider: string, inbound: InboundReport): Promise<InboundOutcome> {
  const { outcome, change } = await inboundChange(ctx, provider, inbound);
  // Inserts only, guarded on nothing: a conflict would be a bug in the store.
  if (outcome.accepted && (await ctx.store.commit(change)) !== 'committed') throw new OpenDispatchError('OD_INTERNAL', 'accepting an inbound message conflicted');
  return outcome;
}

export async function inboundChange(ctx: EngineContext, provider: string, inbound: InboundReport): Promise<{ outcome: InboundOutcome; change: ChangeSet }> {
  const { account, application } = await inboundRecipient(ctx, inbound);
  if (!account) return { outcome: { accepted: false, reason: 'no-account' }, change: {} };
  const inboundUrl = (application && applicationTargets(application).inboundUrl) ?? accountTargets(account).inboundUrl;
  if (!inboundUrl) return { outcome: { accepted: false, reason: 'no-inbound-url' }, change: {} };

  const record: MessageRecord = {
    uuid: newId(inbound.at),
    apiKey: account.apiKey,
    applicationId: application?.id,
    direction: 'inbound',
    channel: inbound.channel,
    to: inbound.to,
    from: inbound.from,
    message: inbound.message,
    status: 'delivered',
    reported: [],
    version: 1,
    provider,
    createdAt: inbound.at,
    updatedAt: inbound.at,
  };
  const webhook = webhookDelivery({
    apiKey: account.apiKey,
    applicationId: application?.id,
    kind: 'inbound-message',
    url: inboundUrl,
    messageUuid: record.uuid,
    at: inbound.at,
    payload: inboundMessagePayload({ messageUuid: record.uuid, to: record.to, from: record.from, at: inbound.at, message: record.message }),
  });
  return { outcome: { accepted: true, messageUuid: record.uuid }, change: mergeChanges({ messages: [record] }, webhook) };
}

/**
 * Whose the inbound message is: the linked application's, unless the user is in a conversation
 * with another account (a link routes its own account's conversations, and users nobody wrote
 * to; never another tenant's); else the conversation's application and account.
 */
async function inboundRecipient(ctx: EngineContext, inbound: InboundReport): Promise<{ account?: AccountRecord; application?: ApplicationRecord }> {
  const link = await ctx.store.findLink(inbound.channel, addressValue(inbound.to).replace(/^\+/, ''));
  const conversation = await ctx.store.findLatestConversation({ apiKey: inbound.apiKey, channel: inbound.channel, businessAddress: addressValue(inbound.to), userAddress: addressValue(inbound.from) });
  // The sandbox names the account its handset belongs to: a link of another account is not its route either.
  const linkAccount = link && (inbound.apiKey ?? conversation?.apiKey ?? link.apiKey) === link.apiKey ? link.apiKey : undefined;
  if (link && linkAccount !== undefined) {
    const application = await ctx.store.findApplication(link.applicationId);
    if (application) return { account: await ctx.accounts.find(linkAccount), application };
  }
  const apiKey = inbound.apiKey ?? conversation?.apiKey;
  const account = apiKey === undefined ? undefined : await ctx.accounts.find(apiKey);
  const application = conversation?.applicationId ? await ctx.store.findApplication(conversation.applicationId) : undefined;
  return { account, application };
}
