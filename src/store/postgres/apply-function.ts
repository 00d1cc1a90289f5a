import { createHash } from 'node:crypto';
import type pg from 'pg';
import { DATABASE_NOW } from './node-membership.js';
import { withConnection } from './postgres-pool.js';
import { insertRows, ROWS, rowsRelation, updateRows } from './recordset.js';

/**
 * Committing a change set as one statement. A change set is a dozen statements (inserts, fenced
 * updates, guards); sent one by one, each is a round trip, and the bench showed the socket writes
 * of those round trips taking a third of the server's CPU. So the statements live in the database,
 * in one PL/pgSQL function: the server sends the steps (write-steps.ts) as one JSON parameter, the
 * function runs them in order, checks each guarded step's row count, and raises CONFLICT when one
 * does not hold. One statement is one transaction: BEGIN and COMMIT need no round trips either.
 * It answers the ids of the jobs it wrote leased (`insert_leased_jobs`), by lease owner.
 *
 * The function is code, not schema: its name carries a hash of its text, so nodes of different
 * versions sharing a database (a rolling upgrade) each call their own.
 */

/** The SQLSTATE the function raises when a fence or guard does not hold (nothing is written). */
export const CONFLICT = 'OD409';

/** Each operation a step may name, as the function runs it on the step's rows. */
const OPERATIONS = {
  // Sorted keys: locks taken in one order cannot deadlock.
  lock_references: `PERFORM pg_advisory_xact_lock(hashtextextended(r.key, 0)) FROM ${rowsRelation('key text')}`,

  delete_leased_jobs: `DELETE FROM jobs AS t USING ${rowsRelation('id bigint, owner text')} WHERE t.id = r.id AND t.lease_owner = r.owner`,
  reschedule_jobs: updateRows('jobs', 'due_at = r."dueAt", last_error = r.error, lease_owner = NULL, lease_node = NULL, lease_expires_at = NULL',
    't.id = r.id AND t.lease_owner = r.owner', { id: 'bigint', owner: 'text', dueAt: 'bigint', error: 'text' }),
  release_jobs: updateRows('jobs', 'lease_owner = NULL, lease_node = NULL, lease_expires_at = NULL, attempts = t.attempts - 1',
    't.id = r.id AND t.lease_owner = r.owner', { id: 'bigint', owner: 'text' }),
  delete_jobs_by_keys: `DELETE FROM jobs WHERE job_key IN (SELECT r.key FROM ${rowsRelation('key text')})`,
  insert_jobs: insertRows('jobs', {
    kind: ['kind', 'text'], lane: ['lane', 'text'], job_key: ['key', 'text'], tenant: ['tenant', 'text'], payload: ['payload', 'text'],
    due_at: ['dueAt', 'bigint'], created_at: ['createdAt', 'bigint'],
  }),
  // Jobs an engine of this node runs as the change commits (Store.runAddedJobs): written leased
  // to it, the lease on the database's clock as a claim's is, attempts counting this first
  // claim. Their ids are what the function answers, by owner (one per job).
  insert_leased_jobs: `WITH inserted AS (
      INSERT INTO jobs (kind, lane, job_key, tenant, payload, due_at, created_at, attempts, lease_owner, lease_node, lease_expires_at)
      SELECT "kind", "lane", "key", "tenant", "payload", "dueAt", "createdAt", 1, "owner", "node", coalesce("leaseNow", ${DATABASE_NOW}) + "leaseMs"
      FROM jsonb_to_recordset(${ROWS}) AS r("kind" text, "lane" text, "key" text, "tenant" text, "payload" text, "dueAt" bigint, "createdAt" bigint,
        "owner" text, "node" text, "leaseNow" bigint, "leaseMs" bigint)
      RETURNING id, lease_owner)
    SELECT leased_ids || coalesce(jsonb_object_agg(lease_owner, id), '{}') INTO leased_ids FROM inserted`,

  insert_dispatches: insertRows('dispatches', {
    uuid: ['uuid', 'text'], api_key: ['apiKey', 'text'], application_id: ['applicationId', 'text'], status_url: ['statusUrl', 'text'],
    status: ['status', 'text'], workflow: ['workflow', 'text'], state: ['state', 'text'], version: ['version', 'integer'],
    created_at: ['createdAt', 'bigint'], updated_at: ['updatedAt', 'bigint'],
  }),
  update_dispatches: updateRows('dispatches', 'state = r.state, status = r.status, version = t.version + 1, updated_at = r."updatedAt"',
    't.uuid = r.uuid AND t.version = r."expectedVersion"', { uuid: 'text', expectedVersion: 'integer', status: 'text', state: 'text', updatedAt: 'bigint' }),

  insert_messages: insertRows('messages', {
    uuid: ['uuid', 'text'], api_key: ['apiKey', 'text'], application_id: ['applicationId', 'text'], direction: ['direction', 'text'],
    channel: ['channel', 'text'], to_address: ['toAddress', 'text'], from_address: ['fromAddress', 'text'], to_value: ['toValue', 'text'],
    from_value: ['fromValue', 'text'], body: ['body', 'text'], client_ref: ['clientRef', 'text'], status: ['status', 'text'],
    reported: ['reported', 'text'], version: ['version', 'integer'], status_url: ['statusUrl', 'text'], provider: ['provider', 'text'],
    provider_ref: ['providerRef', 'text'], dispatch_uuid: ['dispatchUuid', 'text'], step_index: ['stepIndex', 'integer'],
    error_code: ['errorCode', 'integer'], error_reason: ['errorReason', 'text'], price: ['price', 'text'], currency: ['currency', 'text'],
    created_at: ['createdAt', 'bigint'], updated_at: ['updatedAt', 'bigint'],
  }),
  update_messages: updateRows('messages', `status = r.status, reported = r.reported, version = t.version + 1,
      provider = coalesce(r.provider, t.provider), provider_ref = coalesce(r."providerRef", t.provider_ref),
      error_code = coalesce(r."errorCode", t.error_code), error_reason = coalesce(r."errorReason", t.error_reason),
      price = coalesce(r.price, t.price), currency = coalesce(r.currency, t.currency), updated_at = r."updatedAt"`,
    't.uuid = r.uuid AND t.version = r."expectedVersion"', {
      uuid: 'text', expectedVersion: 'integer', status: 'text', reported: 'text', provider: 'text', providerRef: 'text',
      errorCode: 'integer', errorReason: 'text', price: 'text', currency: 'text', updatedAt: 'bigint',
    }),
  insert_events: insertRows('message_events', {
    message_uuid: ['messageUuid', 'text'], status: ['status', 'text'], at: ['at', 'bigint'], error_code: ['errorCode', 'integer'],
    error_reason: ['errorReason', 'text'], price: ['price', 'text'], currency: ['currency', 'text'],
  }),
  insert_send_attempts: insertRows('send_attempts', {
    message_uuid: ['messageUuid', 'text'], attempt: ['attempt', 'integer'], provider: ['provider', 'text'], at: ['at', 'bigint'],
    outcome: ['outcome', 'text'], provider_ref: ['providerRef', 'text'], error_code: ['errorCode', 'integer'], error_reason: ['errorReason', 'text'],
  }),

  insert_webhooks: insertRows('webhooks', {
    id: ['id', 'text'], api_key: ['apiKey', 'text'], application_id: ['applicationId', 'text'], kind: ['kind', 'text'], url: ['url', 'text'],
    body: ['body', 'text'], message_uuid: ['messageUuid', 'text'], state: ['state', 'text'], attempts: ['attempts', 'integer'],
    created_at: ['createdAt', 'bigint'],
  }),
  update_webhooks: updateRows('webhooks', 'state = r.state, attempts = r.attempts, last_attempt_at = r."lastAttemptAt", completed_at = r."completedAt"', 't.id = r.id', {
    id: 'text', state: 'text', attempts: 'integer', lastAttemptAt: 'bigint', completedAt: 'bigint',
  }),
  insert_webhook_attempts: insertRows('webhook_attempts', {
    webhook_id: ['webhookId', 'text'], attempt: ['attempt', 'integer'], at: ['at', 'bigint'], duration_ms: ['durationMs', 'integer'],
    status_code: ['statusCode', 'integer'], error: ['error', 'text'], outcome: ['outcome', 'text'],
  }),

  /** Its row count: how many of these (provider, reference) pairs a message or a part of one carries already. */
  taken_references: `PERFORM 1 FROM ${rowsRelation('provider text, ref text')}
    WHERE EXISTS (SELECT 1 FROM messages m WHERE m.provider = r.provider AND m.provider_ref = r.ref)
       OR EXISTS (SELECT 1 FROM message_parts p WHERE p.provider = r.provider AND p.part_ref = r.ref)`,
  insert_message_parts: insertRows('message_parts', {
    provider: ['provider', 'text'], part_ref: ['partRef', 'text'], message_uuid: ['messageUuid', 'text'], part_index: ['index', 'integer'],
    status: ['status', 'text'], at: ['at', 'bigint'], error_code: ['errorCode', 'integer'], error_reason: ['errorReason', 'text'],
  }),
  update_message_parts: updateRows('message_parts', 'status = r.status, at = r.at, error_code = r."errorCode", error_reason = r."errorReason"',
    't.provider = r.provider AND t.part_ref = r."partRef" AND t.status = r."expectedStatus"', {
      provider: 'text', partRef: 'text', expectedStatus: 'text', status: 'text', at: 'bigint', errorCode: 'integer', errorReason: 'text',
    }),

  insert_inbox_receipts: insertRows('receipt_inbox', {
    id: ['id', 'text'], provider: ['provider', 'text'], provider_ref: ['providerRef', 'text'], status: ['status', 'text'], at: ['at', 'bigint'],
    error_code: ['errorCode', 'integer'], error_reason: ['errorReason', 'text'], received_at: ['receivedAt', 'bigint'],
  }),
  delete_inbox_receipts: `DELETE FROM receipt_inbox WHERE id IN (SELECT r.id FROM ${rowsRelation('id text')})`,
  /** Its row count: the receipts still held for these (provider, reference) pairs. */
  held_receipts: `PERFORM 1 FROM receipt_inbox AS i JOIN ${rowsRelation('provider text, ref text')} ON i.provider = r.provider AND i.provider_ref = r.ref`,

  add_to_counters: `INSERT INTO counters (name, value) SELECT name, by FROM jsonb_to_recordset(${ROWS}) AS r(name text, by bigint)
    ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value`,
  // Delivered at the commit, dropped with a rollback (job-notifications.ts).
  notify: `PERFORM pg_notify(r.channel, r.payload) FROM ${rowsRelation('channel text, payload text')}`,
} as const;

export type Operation = keyof typeof OPERATIONS;

/** Operations where a unique violation is a conflict, not a fault: an update giving a (provider, reference) another message carries already (the caller looks and decides). */
const UNIQUE_VIOLATION_CONFLICTS: ReadonlySet<Operation> = new Set(['update_messages']);

function branch(op: Operation): string {
  const run = `${OPERATIONS[op]};\n        GET DIAGNOSTICS affected = ROW_COUNT;`;
  if (!UNIQUE_VIOLATION_CONFLICTS.has(op)) return `      WHEN '${op}' THEN\n        ${run}`;
  return `      WHEN '${op}' THEN
        BEGIN
          ${run}
        EXCEPTION WHEN unique_violation THEN
          RAISE EXCEPTION 'a reference another message carries' USING ERRCODE = '${CONFLICT}';
        END;`;
}

// Planned at each call: PL/pgSQL otherwise keeps a generic plan per statement after five calls,
// made while the tables were small and blind to the rows' LIMIT (recordset.ts), and scanned
// messages and jobs whole from then on (auto_explain; 5.5 M job rows read in an 8 s accept run).
// Planning costs less than those scans: accept (d1) 1 046, 912, 882, 719 → 1 311, 1 113, 1 054,
// 1 159/s alternated; end to end 96, 88 → 108, 105/s, PostgreSQL's CPU a dispatch 8.6–9.9 → 7.2–7.3 ms.
const BODY = `(steps jsonb) RETURNS jsonb LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $apply$
DECLARE
  step jsonb;
  ${ROWS} jsonb;
  affected bigint;
  leased_ids jsonb := '{}';
BEGIN
  FOR step IN SELECT value FROM jsonb_array_elements(steps) LOOP
    ${ROWS} := step->'rows';
    CASE step->>'op'
${(Object.keys(OPERATIONS) as Operation[]).map(branch).join('\n')}
    END CASE;
    IF step ? 'expect' AND affected <> (step->>'expect')::bigint THEN
      RAISE EXCEPTION 'a fence or guard did not hold' USING ERRCODE = '${CONFLICT}';
    END IF;
  END LOOP;
  RETURN leased_ids;
END
$apply$`;

/** The function's name in this version of the code. */
export const APPLY_FUNCTION = `opendispatch_apply_${createHash('sha256').update(BODY).digest('hex').slice(0, 12)}`;

/** Creates this version's function in the current schema unless it is there; nodes starting at once queue on a lock. */
export async function installApplyFunction(pool: pg.Pool): Promise<void> {
  const present = async (client: Pick<pg.ClientBase, 'query'>) =>
    (await client.query<{ present: boolean }>("SELECT to_regprocedure(quote_ident(current_schema()) || '.' || $1) IS NOT NULL AS present", [`${APPLY_FUNCTION}(jsonb)`])).rows[0]!.present;
  if (await present(pool)) return;
  await withConnection(pool, async (client) => {
    await client.query("SELECT pg_advisory_lock(hashtext(current_schema() || '.apply_function'))");
    try {
      if (!(await present(client))) await client.query(`CREATE FUNCTION ${APPLY_FUNCTION}${BODY}`);
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext(current_schema() || '.apply_function'))");
    }
  });
}
