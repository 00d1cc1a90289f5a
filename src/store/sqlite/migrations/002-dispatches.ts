/** Dispatch workflows: the pure core's state as JSON, guarded by a version on every update. */
export const sql = `
CREATE TABLE dispatches (
  uuid           TEXT PRIMARY KEY,
  api_key        TEXT NOT NULL,
  application_id TEXT,
  status_url     TEXT,
  status         TEXT NOT NULL,
  workflow       TEXT NOT NULL,
  state          TEXT NOT NULL,
  version        INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

ALTER TABLE messages ADD COLUMN step_index INTEGER;
CREATE INDEX messages_by_dispatch ON messages(dispatch_uuid, step_index) WHERE dispatch_uuid IS NOT NULL;
`;
