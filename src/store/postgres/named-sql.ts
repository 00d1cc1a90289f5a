/**
 * A statement written with `@name` parameters (as the SQLite adapter writes them), compiled once
 * to PostgreSQL's positional `$n` and the order in which to pass the values. The rows.ts mappers
 * produce the named objects for both adapters.
 */
export interface NamedStatement {
  /** The statement's name on the server: a prepared statement per connection, parsed once. */
  readonly name: string;
  readonly text: string;
  values(params: Record<string, unknown>): unknown[];
}

export function namedSql(name: string, text: string): NamedStatement {
  const order: string[] = [];
  const positional = text.replace(/@([A-Za-z][A-Za-z0-9]*)/g, (_match, param: string) => {
    let index = order.indexOf(param);
    if (index === -1) index = order.push(param) - 1;
    return `$${index + 1}`;
  });
  return {
    name,
    text: positional,
    values(params) {
      return order.map((param) => {
        if (!(param in params)) throw new Error(`statement ${name} needs @${param}`);
        return params[param];
      });
    },
  };
}
