/**
 * One receipt path (DESIGN §2 rule 6): messages carry the provider that accepted them and its
 * reference, unique per provider; receipts that beat the submit response wait in an inbox.
 * Messages get a version and the set of statuses reported so far, so that every status
 * transition is one conditional update and a repeated report changes nothing. Send attempts are
 * recorded, and the sandbox's pending receipts become provider follow-ups.
 */
export const sql = `
ALTER TABLE messages ADD COLUMN provider TEXT;
ALTER TABLE messages ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE messages ADD COLUMN reported TEXT NOT NULL DEFAULT '';
UPDATE messages SET provider = 'sandbox' WHERE provider_ref IS NOT NULL;
UPDATE messages SET reported = coalesce((SELECT group_concat(status) FROM (SELECT DISTINCT status FROM message_events WHERE message_uuid = messages.uuid)), '');
CREATE UNIQUE INDEX messages_by_provider_ref ON messages(provider, provider_ref) WHERE provider_ref IS NOT NULL;

CREATE TABLE send_attempts (
  message_uuid TEXT NOT NULL,
  attempt      INTEGER NOT NULL,
  provider     TEXT NOT NULL,
  at           INTEGER NOT NULL,
  outcome      TEXT NOT NULL,
  provider_ref TEXT,
  error_code   INTEGER,
  error_reason TEXT,
  PRIMARY KEY (message_uuid, attempt)
) WITHOUT ROWID;

CREATE TABLE receipt_inbox (
  id           TEXT PRIMARY KEY,
  provider     TEXT NOT NULL,
  provider_ref TEXT NOT NULL,
  status       TEXT NOT NULL,
  at           INTEGER NOT NULL,
  error_code   INTEGER,
  error_reason TEXT,
  received_at  INTEGER NOT NULL
);
CREATE INDEX receipt_inbox_by_reference ON receipt_inbox(provider, provider_ref);

CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

-- Receipts the sandbox scheduled before this version (keyed by the message uuid, which was its
-- provider reference) run on as follow-ups of the provider "sandbox".
UPDATE jobs SET
  kind = 'provider.follow-up',
  job_key = 'follow-ups:' || json_extract(payload, '$.messageUuid'),
  payload = json_object(
    'provider', 'sandbox',
    'providerRef', json_extract(payload, '$.messageUuid'),
    'messageUuid', json_extract(payload, '$.messageUuid'),
    'at', coalesce(json_extract(payload, '$.at'), due_at),
    'event', json_object('statuses', json_array(json_object('status', json_extract(payload, '$.status'), 'error', json_extract(payload, '$.error')))))
WHERE kind = 'sandbox.receipt';

-- Timers written before their payload carried their own instant are due at their row's due time.
UPDATE jobs SET payload = json_set(payload, '$.dueAt', due_at)
WHERE kind = 'dispatch.timer' AND json_extract(payload, '$.dueAt') IS NULL;

-- Each job names the lane (worker pool) that runs it (src/engine/jobs/job-kinds.ts), so that a
-- lane's claim reads its own range of an index instead of filtering every job by kind.
ALTER TABLE jobs ADD COLUMN lane TEXT;
UPDATE jobs SET lane = CASE kind
  WHEN 'message.send' THEN 'sends'
  WHEN 'webhook.deliver' THEN 'webhooks'
  WHEN 'dispatch.timer' THEN 'engine'
  WHEN 'provider.follow-up' THEN 'engine'
END;
CREATE INDEX jobs_by_lane ON jobs(lane, due_at);
-- Every worker claims by lane now; one index fewer to keep up on every job written and deleted.
DROP INDEX jobs_by_due_at;
`;
