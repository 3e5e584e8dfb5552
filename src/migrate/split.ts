// Splits a SQL file into top-level statements so the runner can run them one by one: outside a
// transaction for `-- pgkit:no-transaction` files (PostgreSQL runs a multi-statement query string as one
// implicit transaction, where CREATE INDEX CONCURRENTLY is refused), and inside one for the others, so an
// error names the statement's line even when PostgreSQL reports no position.
// Knows what psql knows: comments (nested /* */), '...', E'...', "...", $tag$...$tag$, and
// BEGIN ATOMIC ... END bodies of CREATE FUNCTION/PROCEDURE (counted the way psql counts them).

export interface Statement {
  /** From the first significant character to the terminating semicolon (included, if present). */
  text: string;
  /** Offset (UTF-16 index) of `text` in the file. */
  start: number;
  /** 1-based line of `start`. */
  line: number;
  /** Lower-cased first word (`create`, `alter`, `commit`...). */
  keyword: string;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Converts PostgreSQL's 1-based character position (code points) to a UTF-16 index into `text`. */
export function positionToIndex(text: string, position: number): number {
  let index = 0;
  let chars = 1;
  while (chars < position && index < text.length) {
    const cp = text.codePointAt(index) ?? 0;
    index += cp > 0xffff ? 2 : 1;
    chars++;
  }
  return index;
}

export function splitStatements(sql: string): Statement[] {
  const out: Statement[] = [];
  let start = -1; // first significant char of the current statement
  let words: string[] = [];
  let depth = 0; // BEGIN/CASE ... END nesting inside CREATE FUNCTION/PROCEDURE
  const isRoutine = () =>
    words[0] === 'create' && words.slice(1, 4).some((w) => w === 'function' || w === 'procedure');
  const finish = (end: number) => {
    if (start >= 0) {
      out.push({ text: sql.slice(start, end), start, line: lineAt(sql, start), keyword: words[0] ?? '' });
    }
    start = -1;
    words = [];
    depth = 0;
  };
  const mark = (i: number) => {
    if (start < 0) start = i;
  };

  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && next === '*') {
      let nest = 1;
      i += 2;
      while (i < sql.length && nest > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') (nest++, (i += 2));
        else if (sql[i] === '*' && sql[i + 1] === '/') (nest--, (i += 2));
        else i++;
      }
    } else if (c === "'") {
      mark(i);
      // E'...' allows backslash escapes; the E was read as a word just before.
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]) && (i < 2 || !WORD_CHAR.test(sql[i - 2]));
      i++;
      while (i < sql.length) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else i++;
      }
      i++;
    } else if (c === '"') {
      mark(i);
      i++;
      while (i < sql.length) {
        if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
        else if (sql[i] === '"') break;
        else i++;
      }
      i++;
    } else if (c === '$' && (i === 0 || !WORD_CHAR.test(sql[i - 1]))) {
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(sql);
      mark(i);
      if (m) {
        const close = sql.indexOf(m[0], i + m[0].length);
        i = close < 0 ? sql.length : close + m[0].length;
      } else {
        i++; // $1 parameter or a lone dollar
      }
    } else if (WORD_START.test(c)) {
      mark(i);
      let j = i + 1;
      while (j < sql.length && WORD_CHAR.test(sql[j])) j++;
      const word = sql.slice(i, j).toLowerCase();
      if (words.length < 4) words.push(word);
      if (isRoutine()) {
        if ((word === 'begin' || word === 'case') && words.length > 1) depth++;
        else if (word === 'end' && depth > 0) depth--;
      }
      i = j;
    } else if (c === ';') {
      if (depth === 0) {
        finish(i + 1);
      }
      i++;
    } else {
      if (!/\s/.test(c)) mark(i);
      i++;
    }
  }
  finish(sql.length);
  return out;
}
