/**
 * The schema as SQLite's migrations 001–008 left it, in one step: PostgreSQL came later, so it
 * starts from there. Column names and types match SQLite's (src/store/rows.ts maps both): JSON
 * as text, times as bigint milliseconds. Rows that SQLite orders by rowid get a sequence here.
 */
export const sql = `
CREATE TABLE accounts (
  api_key             text PRIMARY KEY,
  secret_hash         text NOT NULL,
  signature_secret    text NOT NULL,
  default_inbound_url text,
  default_status_url  text,
  created_at          bigint NOT NULL
);

CREATE TABLE applications (
  id           text PRIMARY KEY,
  api_key      text NOT NULL REFERENCES accounts(api_key),
  name         text NOT NULL,
  public_key   text NOT NULL,
  capabilities text NOT NULL,
  privacy      text NOT NULL,
  created_at   bigint NOT NULL,
  updated_at   bigint NOT NULL
);
CREATE INDEX applications_by_account ON applications(api_key, created_at, id);

CREATE TABLE links (
  channel        text NOT NULL,
  address        text NOT NULL,
  api_key        text NOT NULL,
  application_id text NOT NULL,
  created_at     bigint NOT NULL,
  PRIMARY KEY (channel, address)
);
CREATE INDEX links_by_application ON links(application_id, channel, address);
CREATE INDEX links_by_account ON links(api_key);

CREATE TABLE dispatches (
  uuid           text PRIMARY KEY,
  api_key        text NOT NULL,
  application_id text,
  status_url     text,
  status         text NOT NULL,
  workflow       text NOT NULL,
  state          text NOT NULL,
  version        integer NOT NULL,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL
);

CREATE TABLE messages (
  uuid           text PRIMARY KEY,
  api_key        text NOT NULL,
  application_id text,
  direction      text NOT NULL,
  channel        text NOT NULL,
  to_address     text NOT NULL,
  from_address   text NOT NULL,
  to_value       text NOT NULL,
  from_value     text NOT NULL,
  body           text NOT NULL,
  client_ref     text,
  status         text NOT NULL,
  reported       text NOT NULL DEFAULT '',
  version        integer NOT NULL DEFAULT 1,
  status_url     text,
  provider       text,
  provider_ref   text,
  dispatch_uuid  text,
  step_index     integer,
  error_code     integer,
  error_reason   text,
  price          text,
  currency       text,
  created_at     bigint NOT NULL,
  updated_at     bigint NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(api_key, channel, from_value, to_value, created_at);
CREATE INDEX messages_by_thread ON messages(channel, from_value, to_value, created_at);
CREATE UNIQUE INDEX messages_by_provider_ref ON messages(provider, provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX messages_by_dispatch ON messages(dispatch_uuid, step_index) WHERE dispatch_uuid IS NOT NULL;

CREATE TABLE message_events (
  id           bigserial PRIMARY KEY,
  message_uuid text NOT NULL,
  status       text NOT NULL,
  at           bigint NOT NULL,
  error_code   integer,
  error_reason text,
  price        text,
  currency     text
);
CREATE INDEX message_events_by_message ON message_events(message_uuid, id);

CREATE TABLE message_parts (
  provider     text NOT NULL,
  part_ref     text NOT NULL,
  message_uuid text NOT NULL,
  part_index   integer NOT NULL,
  status       text NOT NULL,
  at           bigint NOT NULL,
  error_code   integer,
  error_reason text,
  PRIMARY KEY (provider, part_ref)
);
CREATE INDEX message_parts_by_message ON message_parts(message_uuid, part_index);

CREATE TABLE send_attempts (
  message_uuid text NOT NULL,
  attempt      integer NOT NULL,
  provider     text NOT NULL,
  at           bigint NOT NULL,
  outcome      text NOT NULL,
  provider_ref text,
  error_code   integer,
  error_reason text,
  PRIMARY KEY (message_uuid, attempt)
);

CREATE TABLE receipt_inbox (
  id           text PRIMARY KEY,
  provider     text NOT NULL,
  provider_ref text NOT NULL,
  status       text NOT NULL,
  at           bigint NOT NULL,
  error_code   integer,
  error_reason text,
  received_at  bigint NOT NULL
);
CREATE INDEX receipt_inbox_by_reference ON receipt_inbox(provider, provider_ref);

CREATE TABLE counters (
  name  text PRIMARY KEY,
  value bigint NOT NULL
);

CREATE TABLE jobs (
  id               bigserial PRIMARY KEY,
  kind             text NOT NULL,
  lane             text,
  job_key          text,
  tenant           text,
  payload          text NOT NULL,
  due_at           bigint NOT NULL,
  attempts         integer NOT NULL DEFAULT 0,
  lease_owner      text,
  lease_expires_at bigint,
  last_error       text,
  created_at       bigint NOT NULL
);
CREATE INDEX jobs_by_lane ON jobs(lane, due_at);
CREATE INDEX jobs_by_key ON jobs(job_key) WHERE job_key IS NOT NULL;

CREATE TABLE webhooks (
  id              text PRIMARY KEY,
  seq             bigserial NOT NULL,
  api_key         text NOT NULL,
  application_id  text,
  kind            text NOT NULL,
  url             text NOT NULL,
  body            text NOT NULL,
  message_uuid    text,
  state           text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  created_at      bigint NOT NULL,
  last_attempt_at bigint,
  completed_at    bigint
);
CREATE INDEX webhooks_by_message ON webhooks(message_uuid, created_at, seq) WHERE message_uuid IS NOT NULL;

CREATE TABLE webhook_attempts (
  id          bigserial PRIMARY KEY,
  webhook_id  text NOT NULL,
  attempt     integer NOT NULL,
  at          bigint NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  error       text,
  outcome     text NOT NULL
);
CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts(webhook_id, attempt);
`;
