/** The statuses a message reports on the wire (Messages v0.1 §2.6). */
export const MESSAGE_STATUSES = ['submitted', 'delivered', 'read', 'rejected', 'undeliverable'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Internal status before the provider has accepted the message. Never sent in a webhook. */
export type StoredMessageStatus = 'queued' | MessageStatus;

const RANK: Record<StoredMessageStatus, number> = {
  queued: 0,
  submitted: 1,
  delivered: 2,
  read: 3,
  rejected: 4,
  undeliverable: 4,
};

/**
 * Whether `next` moves a message forward from `current`. Receipts can arrive out of order
 * (a DLR may beat the submit response), so the stored status only ever advances; every
 * receipt is still recorded as an event and reported.
 */
export function advances(current: StoredMessageStatus, next: StoredMessageStatus): boolean {
  if (isFailure(current)) return false;
  return RANK[next] > RANK[current];
}

export function isFailure(status: StoredMessageStatus): status is 'rejected' | 'undeliverable' {
  return status === 'rejected' || status === 'undeliverable';
}

/** A Nexmo messages error (`error.code` / `error.reason` of a status webhook). */
export interface MessageError {
  code: number;
  reason: string;
}
