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
 * `UPDATE table AS t SET … FROM` the rows `r` `WHERE` a condition on both; the caller compares
 * the row count with the rows given (a guard that failed on one of them updates fewer).
 */
export function recordsetUpdate(name: string, table: string, set: string, where: string, keys: Record<string, string>): NamedStatement {
  const definitions = Object.entries(keys).map(([key, type]) => `"${key}" ${type}`);
  return namedSql(name, `UPDATE ${table} AS t SET ${set} FROM jsonb_to_recordset(@rows::jsonb) AS r(${definitions.join(', ')}) WHERE ${where}`);
}
