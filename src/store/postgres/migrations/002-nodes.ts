/**
 * The nodes sharing the database, each seen by its heartbeat, and which node holds each lease:
 * a node that dies (SIGKILL, a lost machine) has its leases freed once its heartbeat is stale,
 * instead of at their expiry (postgres-store.ts, NODE_TIMEOUT_MS).
 */
export const sql = `
CREATE TABLE nodes (
  id         text PRIMARY KEY,
  started_at bigint NOT NULL,
  seen_at    bigint NOT NULL
);
ALTER TABLE jobs ADD COLUMN lease_node text;
CREATE INDEX jobs_by_lease_node ON jobs(lease_node) WHERE lease_node IS NOT NULL;
`;
