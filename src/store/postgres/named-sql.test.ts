import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namedSql } from './named-sql.js';

test('named parameters become positional ones, a repeated name one position', () => {
  const statement = namedSql('s', 'SELECT * FROM t WHERE a = @first AND (b = @second OR c = @first)');
  assert.equal(statement.text, 'SELECT * FROM t WHERE a = $1 AND (b = $2 OR c = $1)');
  assert.deepEqual(statement.values({ second: 'y', first: 'x', unused: 1 }), ['x', 'y']);
});

test('a missing parameter is a programming error, named in the message', () => {
  assert.throws(() => namedSql('find', 'SELECT @id').values({}), /find needs @id/);
});
