import { namedSql, type NamedStatement } from './named-sql.js';

/**
 * Statements that write many rows with one parameter: the rows as a JSON array, unpacked by
 * `jsonb_to_recordset`. A change set then costs one round trip per kind of row, whatever its
 * number of rows, and one prepared statement serves any count. Keys are the rows.ts mappers'
 * camelCase names (quoted), so both adapters share those mappers.
 */

/** `columns`: table column → [key in the JSON rows, SQL type]. */
export function recordsetInsert(name: string, table: string, columns: Record<string, [key: string, type: string]>): NamedStatement {
  const entries = Object.entries(columns);
  const keys = entries.map(([, [key]]) => `"${key}"`);
  const definitions = entries.map(([, [key, type]]) => `"${key}" ${type}`);
  return namedSql(name, `INSERT INTO ${table} (${entries.map(([column]) => column).join(', ')})
    SELECT ${keys.join(', ')} FROM jsonb_to_recordset(@rows::jsonb) AS r(${definitions.join(', ')})`);
}

/**
 * The JSON rows as a relation `r` to join with: `definitions` are its `"key" type` columns.
 * jsonb_to_recordset tells the planner it returns 100 rows whatever it is given, which makes a
 * hash join over a sequential scan of the whole table look cheaper than 100 index lookups; the
 * LIMIT of the rows' count (@count, always the true count) is what the planner believes instead,
 * so a join reads the table by its index.
 */
export function recordsetRows(definitions: string): string {
  return `(SELECT * FROM jsonb_to_recordset(@rows::jsonb) AS r(${definitions}) LIMIT @count) AS r`;
}

/**
 * `UPDATE table AS t SET … FROM` the rows `r` `WHERE` a condition on both; the caller compares
 * the row count with the rows given (a guard that failed on one of them updates fewer).
 */
export function recordsetUpdate(name: string, table: string, set: string, where: string, keys: Record<string, string>): NamedStatement {
  const definitions = Object.entries(keys).map(([key, type]) => `"${key}" ${type}`);
  return namedSql(name, `UPDATE ${table} AS t SET ${set} FROM ${recordsetRows(definitions.join(', '))} WHERE ${where}`);
}
