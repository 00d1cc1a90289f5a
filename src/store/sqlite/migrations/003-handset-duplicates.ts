/** Counts how often a handset got the same message: a resend after a crash shows up here. */
export const sql = `
ALTER TABLE sandbox_messages ADD COLUMN times_received INTEGER NOT NULL DEFAULT 1;
`;
