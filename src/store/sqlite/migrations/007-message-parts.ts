/**
 * The parts of messages a provider carries in several pieces (a concatenated SMS), each with
 * its own reference and receipts (core/message-parts.ts).
 */
export const sql = `
CREATE TABLE message_parts (
  provider     TEXT NOT NULL,
  part_ref     TEXT NOT NULL,
  message_uuid TEXT NOT NULL,
  part_index   INTEGER NOT NULL,
  status       TEXT NOT NULL,
  at           INTEGER NOT NULL,
  error_code   INTEGER,
  error_reason TEXT,
  PRIMARY KEY (provider, part_ref)
) WITHOUT ROWID;
CREATE INDEX message_parts_by_message ON message_parts(message_uuid, part_index);
`;
