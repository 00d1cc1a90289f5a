/**
 * Each lane's jobs by key, in due order: a claim that leaves out a receiver or provider at its
 * share of slots reads the other keys' ranges, rather than reading through the left-out key's
 * due backlog in the lane's due order (measured: 25 ms a claim, at most 76 ms, 50 000 dispatches
 * into the end-to-end benchmark, and growing with the backlog).
 */
export const sql = `
CREATE INDEX jobs_by_lane_key ON jobs(lane, job_key, due_at);
`;
