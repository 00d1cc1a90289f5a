/**
 * Links (DESIGN §4): a business address of a channel (a page, a number) routed to one
 * application, for inbound messages. An address is linked to one application at a time.
 */
export const sql = `
CREATE TABLE links (
  channel        TEXT NOT NULL,
  address        TEXT NOT NULL,
  api_key        TEXT NOT NULL,
  application_id TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  PRIMARY KEY (channel, address)
) WITHOUT ROWID;
CREATE INDEX links_by_application ON links(application_id, channel, address);
`;
