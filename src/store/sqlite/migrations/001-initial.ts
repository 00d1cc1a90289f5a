/** Accounts, applications, messages with their events, the job table, webhooks, the sandbox. */
export const sql = `
CREATE TABLE accounts (
  api_key             TEXT PRIMARY KEY,
  secret_hash         TEXT NOT NULL,
  signature_secret    TEXT NOT NULL,
  default_inbound_url TEXT,
  default_status_url  TEXT,
  created_at          INTEGER NOT NULL
);

CREATE TABLE applications (
  id           TEXT PRIMARY KEY,
  api_key      TEXT NOT NULL REFERENCES accounts(api_key),
  name         TEXT NOT NULL,
  public_key   TEXT NOT NULL,
  capabilities TEXT NOT NULL,
  privacy      TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX applications_by_account ON applications(api_key, created_at, id);

CREATE TABLE messages (
  uuid           TEXT PRIMARY KEY,
  api_key        TEXT NOT NULL,
  application_id TEXT,
  direction      TEXT NOT NULL,
  channel        TEXT NOT NULL,
  to_address     TEXT NOT NULL,
  from_address   TEXT NOT NULL,
  to_value       TEXT NOT NULL,
  from_value     TEXT NOT NULL,
  body           TEXT NOT NULL,
  client_ref     TEXT,
  status         TEXT NOT NULL,
  status_url     TEXT,
  provider_ref   TEXT,
  dispatch_uuid  TEXT,
  error_code     INTEGER,
  error_reason   TEXT,
  price          TEXT,
  currency       TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(api_key, channel, from_value, to_value, created_at);

CREATE TABLE message_events (
  id           INTEGER PRIMARY KEY,
  message_uuid TEXT NOT NULL,
  status       TEXT NOT NULL,
  at           INTEGER NOT NULL,
  error_code   INTEGER,
  error_reason TEXT,
  price        TEXT,
  currency     TEXT
);
CREATE INDEX message_events_by_message ON message_events(message_uuid, id);

CREATE TABLE jobs (
  id               INTEGER PRIMARY KEY,
  kind             TEXT NOT NULL,
  job_key          TEXT,
  payload          TEXT NOT NULL,
  due_at           INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  last_error       TEXT,
  created_at       INTEGER NOT NULL
);
CREATE INDEX jobs_by_due_at ON jobs(due_at);
CREATE INDEX jobs_by_key ON jobs(job_key) WHERE job_key IS NOT NULL;

CREATE TABLE webhooks (
  id              TEXT PRIMARY KEY,
  api_key         TEXT NOT NULL,
  application_id  TEXT,
  kind            TEXT NOT NULL,
  url             TEXT NOT NULL,
  body            TEXT NOT NULL,
  message_uuid    TEXT,
  state           TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  last_attempt_at INTEGER,
  completed_at    INTEGER
);
CREATE INDEX webhooks_by_message ON webhooks(message_uuid) WHERE message_uuid IS NOT NULL;

CREATE TABLE webhook_attempts (
  id          INTEGER PRIMARY KEY,
  webhook_id  TEXT NOT NULL,
  attempt     INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error       TEXT,
  outcome     TEXT NOT NULL
);
CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts(webhook_id, attempt);

CREATE TABLE sandbox_recipients (
  api_key    TEXT NOT NULL,
  channel    TEXT NOT NULL,
  address    TEXT NOT NULL,
  script     TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (api_key, channel, address)
);

CREATE TABLE sandbox_messages (
  message_uuid TEXT PRIMARY KEY,
  api_key      TEXT NOT NULL,
  channel      TEXT NOT NULL,
  to_value     TEXT NOT NULL,
  to_address   TEXT NOT NULL,
  from_address TEXT NOT NULL,
  body         TEXT NOT NULL,
  received_at  INTEGER NOT NULL,
  read_at      INTEGER
);
CREATE INDEX sandbox_messages_by_handset ON sandbox_messages(api_key, channel, to_value, received_at);
`;
