import type { InboundReport, ProviderEvent } from '../../channels/channel-adapter.js';
import type { Caller } from '../../core/caller.js';
import type { DispatchRequest } from '../../core/dispatch/dispatch-request.js';
import type { OutboundMessage } from '../../core/message.js';
import type { Channel } from '../../core/channel.js';
import type { ApplicationRecord, LinkRecord } from '../../core/records.js';
import type { InvalidParameter } from '../../core/validation.js';
import type { Page } from '../../store/store.js';
import { createBasicCredentialsCheck, type BasicCredentialsCheck } from '../accounts/basic-credentials-check.js';
import type { EngineContext } from '../engine-context.js';
import { acceptDispatch } from './accept-dispatch.js';
import { acceptInbound, type InboundOutcome } from './accept-inbound.js';
import { acceptMessage } from './accept-message.js';
import {
  createApplication,
  deleteApplication,
  findOwnApplication,
  listApplications,
  refusedWebhookAddresses,
  replaceApplication,
  type ApplicationFields,
  type CreatedApplication,
} from './applications.js';
import { linkAddress, listLinks, unlinkAddress, type LinkOutcome } from './links.js';
import { lookUpDispatch, lookUpMessage, type DispatchView, type MessageView } from './lookups.js';
import { recordProviderEvents } from './record-receipt.js';

export type { ApplicationFields, DispatchView, InboundOutcome, LinkOutcome, MessageView };

/**
 * What the HTTP API may do (DESIGN §2: api → engine use cases). The API holds this object and
 * nothing of the store: every write goes through a use case, every read through a lookup that
 * already applies the caller's visibility.
 */
export interface UseCases {
  /**
   * The account whose key and secret these are; undefined, in constant time, for anything else.
   * `knownOnly`: only from credentials verified recently (no scrypt), for a throttled client.
   */
  authenticateBasic: BasicCredentialsCheck;
  /** Any account's application: JWTs name it, and it names its account. */
  findApplication(id: string): Promise<ApplicationRecord | undefined>;
  acceptMessage(caller: Caller, outbound: OutboundMessage): Promise<string>;
  lookUpMessage(caller: Caller, uuid: string): Promise<MessageView | undefined>;
  acceptDispatch(caller: Caller, request: DispatchRequest): Promise<string>;
  lookUpDispatch(caller: Caller, uuid: string): Promise<DispatchView | undefined>;
  acceptInbound(provider: string, inbound: InboundReport): Promise<InboundOutcome>;
  /** Receipts and inbound messages from a provider's callback, recorded before it is answered. */
  recordProviderEvents(provider: string, events: readonly ProviderEvent[]): Promise<void>;
  applications: {
    create(apiKey: string, fields: ApplicationFields): Promise<CreatedApplication>;
    findOwn(apiKey: string, id: string): Promise<ApplicationRecord | undefined>;
    list(apiKey: string, page: { limit: number; offset: number }): Promise<Page<ApplicationRecord>>;
    replace(apiKey: string, id: string, fields: ApplicationFields): Promise<ApplicationRecord | undefined>;
    delete(apiKey: string, id: string): Promise<boolean>;
    /** Webhook addresses of these capabilities that webhooks may never reach; empty when all may be. */
    refusedAddresses(capabilities: Record<string, unknown>): InvalidParameter[];
  };
  links: {
    put(apiKey: string, applicationId: string, channel: Channel, address: string): Promise<LinkOutcome>;
    delete(apiKey: string, applicationId: string, channel: Channel, address: string): Promise<boolean>;
    list(apiKey: string, applicationId: string): Promise<LinkRecord[] | undefined>;
  };
}

export function createUseCases(ctx: EngineContext): UseCases {
  return {
    authenticateBasic: createBasicCredentialsCheck(ctx),
    findApplication: (id) => ctx.store.findApplication(id),
    acceptMessage: (caller, outbound) => acceptMessage(ctx, caller, outbound),
    lookUpMessage: (caller, uuid) => lookUpMessage(ctx, caller, uuid),
    acceptDispatch: (caller, request) => acceptDispatch(ctx, caller, request),
    lookUpDispatch: (caller, uuid) => lookUpDispatch(ctx, caller, uuid),
    acceptInbound: (provider, inbound) => acceptInbound(ctx, provider, inbound),
    recordProviderEvents: (provider, events) => recordProviderEvents(ctx, provider, events),
    applications: {
      create: (apiKey, fields) => createApplication(ctx, apiKey, fields),
      findOwn: (apiKey, id) => findOwnApplication(ctx, apiKey, id),
      list: (apiKey, page) => listApplications(ctx, apiKey, page),
      replace: (apiKey, id, fields) => replaceApplication(ctx, apiKey, id, fields),
      delete: (apiKey, id) => deleteApplication(ctx, apiKey, id),
      refusedAddresses: (capabilities) => refusedWebhookAddresses(ctx, capabilities),
    },
    links: {
      put: (apiKey, applicationId, channel, address) => linkAddress(ctx, apiKey, applicationId, channel, address),
      delete: (apiKey, applicationId, channel, address) => unlinkAddress(ctx, apiKey, applicationId, channel, address),
      list: (apiKey, applicationId) => listLinks(ctx, apiKey, applicationId),
    },
  };
}
