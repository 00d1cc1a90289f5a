/**
 * Jobs name the account they work for, where a lane limits each account's share of its slots.
 * The lane index covers the lease: a claim skips the jobs in flight (the earliest due, under
 * load) inside the index instead of reading each one's row.
 */
export const sql = `
ALTER TABLE jobs ADD COLUMN tenant TEXT;
UPDATE jobs SET tenant = (SELECT api_key FROM webhooks WHERE webhooks.id = json_extract(jobs.payload, '$.webhookId'))
WHERE kind = 'webhook.deliver';
DROP INDEX jobs_by_lane;
CREATE INDEX jobs_by_lane ON jobs(lane, due_at, lease_expires_at);
`;
