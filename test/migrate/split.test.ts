import { describe, expect, it } from 'vitest';
import { lineAt, positionToIndex, splitStatements } from '../../src/migrate/split.js';

describe('splitStatements', () => {
  it('splits on top-level semicolons and reports each statement line and first keyword', () => {
    const sql = '-- header; not a statement\nCREATE TABLE a (x int);\n\n/* block; comment */\nINSERT INTO a VALUES (1);\nselect 1';
    const s = splitStatements(sql);
    expect(s.map((x) => [x.line, x.keyword, x.text])).toEqual([
      [2, 'create', 'CREATE TABLE a (x int);'],
      [5, 'insert', 'INSERT INTO a VALUES (1);'],
      [6, 'select', 'select 1'],
    ]);
  });

  it('keeps semicolons inside strings, identifiers, nested comments and dollar quotes', () => {
    const sql = [
      "SELECT 'a;b', 'it''s;', E'x\\';y', \"we;ird\";",
      '/* outer /* inner; */ still comment; */ SELECT 2;',
      'DO $body$ BEGIN PERFORM 1; RAISE NOTICE $$;$$; END $body$;',
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;',
      'SELECT $1::text;',
    ].join('\n');
    expect(splitStatements(sql).map((x) => x.line)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps a BEGIN ATOMIC function body (with CASE ... END) in one statement', () => {
    const sql = `CREATE OR REPLACE FUNCTION f(i int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN i > 0 THEN 1 ELSE 0 END;
  SELECT 2;
END;
SELECT 3;`;
    const s = splitStatements(sql);
    expect(s).toHaveLength(2);
    expect(s[0].text.endsWith('END;')).toBe(true);
    expect(s[1].line).toBe(6);
  });

  it('treats BEGIN as a statement of its own outside routines', () => {
    expect(splitStatements('BEGIN; SELECT 1; COMMIT;').map((s) => s.keyword)).toEqual(['begin', 'select', 'commit']);
  });
});

describe('positions', () => {
  it('maps PostgreSQL character positions to lines, counting characters outside the BMP once', () => {
    const text = "SELECT '😀',\n  nope";
    const idx = positionToIndex(text, 15); // 15th character (the emoji is one): the n of nope
    expect(text.slice(idx, idx + 4)).toBe('nope');
    expect(lineAt(text, idx)).toBe(2);
  });
});
