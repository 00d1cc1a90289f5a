/**
 * SQL over rows given as one JSON array, unpacked by `jsonb_to_recordset`: any number of rows in
 * one statement, and one plan for any count. The apply function (apply-function.ts) runs these
 * statements with the step's rows in its variable `step_rows`. Keys are the rows.ts mappers'
 * camelCase names (quoted), so both adapters share those mappers.
 */

/** The apply function's variable holding the rows of the step being applied. */
export const ROWS = 'step_rows';

/**
 * The rows as a relation `r` to join with: `definitions` are its `"key" type` columns.
 * jsonb_to_recordset tells the planner it returns 100 rows whatever it is given, which makes a
 * hash join over a sequential scan of the whole table look cheaper than 100 index lookups; a
 * LIMIT of the rows' true count is what the planner believes instead, so a join reads the table
 * by its index.
 */
export function rowsRelation(definitions: string): string {
  return `(SELECT * FROM jsonb_to_recordset(${ROWS}) AS r(${definitions}) LIMIT jsonb_array_length(${ROWS})) AS r`;
}

/** `columns`: table column → [key in the JSON rows, SQL type]. */
export function insertRows(table: string, columns: Record<string, [key: string, type: string]>): string {
  const entries = Object.entries(columns);
  const keys = entries.map(([, [key]]) => `"${key}"`);
  const definitions = entries.map(([, [key, type]]) => `"${key}" ${type}`);
  return `INSERT INTO ${table} (${entries.map(([column]) => column).join(', ')})
    SELECT ${keys.join(', ')} FROM jsonb_to_recordset(${ROWS}) AS r(${definitions.join(', ')})`;
}

/** `UPDATE table AS t SET … FROM` the rows `r` `WHERE` a condition on both; a guard that fails on a row updates fewer rows than given. */
export function updateRows(table: string, set: string, where: string, keys: Record<string, string>): string {
  const definitions = Object.entries(keys).map(([key, type]) => `"${key}" ${type}`);
  return `UPDATE ${table} AS t SET ${set} FROM ${rowsRelation(definitions.join(', '))} WHERE ${where}`;
}
