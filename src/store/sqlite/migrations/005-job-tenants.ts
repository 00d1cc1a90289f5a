/** Jobs name the account they work for, where a lane limits each account's share of its slots. */
export const sql = `
ALTER TABLE jobs ADD COLUMN tenant TEXT;
UPDATE jobs SET tenant = (SELECT api_key FROM webhooks WHERE webhooks.id = json_extract(jobs.payload, '$.webhookId'))
WHERE kind = 'webhook.deliver';
`;
