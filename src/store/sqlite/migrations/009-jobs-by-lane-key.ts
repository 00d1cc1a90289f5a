/**
 * Each lane's jobs by key, in due order: a claim that leaves out a receiver or provider at its
 * share of slots reads the other keys' ranges instead of the left-out key's backlog
 * (sqlite-store.ts, claimJobsOfLaneByKey, has the measurements).
 */
export const sql = `
CREATE INDEX jobs_by_lane_key ON jobs(lane, job_key, due_at);
`;
