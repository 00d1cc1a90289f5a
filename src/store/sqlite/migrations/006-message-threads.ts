/**
 * Messages by thread (channel, business address, user address), newest first, across accounts:
 * a provider's inbound message and its read watermarks name a thread, never an account
 * (findLatestConversation without an account, listThreadMessages).
 */
export const sql = `
CREATE INDEX messages_by_thread ON messages(channel, from_value, to_value, created_at);
`;
