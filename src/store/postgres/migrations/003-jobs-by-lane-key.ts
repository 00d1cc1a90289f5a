/** Each lane's jobs by key, in due order: as SQLite's 009, for claims that leave keys out. */
export const sql = `
CREATE INDEX jobs_by_lane_key ON jobs(lane, job_key, due_at);
`;
