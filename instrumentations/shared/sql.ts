/**
 * SQL text read the way PostgreSQL's lexer reads it, for database spans:
 * - sanitizeSql(): the text for db.query.text, every literal (string, number, boolean, bit and
 *   hex strings, dollar-quoted bodies) replaced by `?`, IN-lists of literals collapsed to
 *   `IN (?)`, comments dropped; placeholders (`$1`, `?`) and identifiers kept as written.
 * - summarizeSql(): db.query.summary, the operations and the tables they work on, in order
 *   (`SELECT users`, `INSERT orders SELECT carts`), at most 255 characters; and, for a text that
 *   is one CALL, the procedure it runs (db.stored_procedure.name).
 *
 * Both are built from tokens alone and never from a literal's contents, so neither can carry a
 * value of the query. Wherever the reading is in doubt, the safe reading wins:
 * - anything unterminated (string, comment, quoted identifier) runs to the end of the text;
 * - a plain string holding a backslash-escaped quote (`'it\'s'`) ends elsewhere when
 *   standard_conforming_strings is off, so from there on the whole rest of the text counts as
 *   one literal;
 * - text past MAX_ANALYZED_LENGTH is not read at all.
 *
 * Identifiers in double quotes stay (they are names in PostgreSQL, not values), as do unquoted
 * words: `SET x = abc` keeps `abc`.
 *
 * The mysql dialect (MySQL and MariaDB, default sql_mode) reads `backquoted` names as identifiers
 * that stay, "double-quoted" text as a string (a value, unless ANSI_QUOTES is on: the safe
 * reading), backslash escapes in both kinds of strings, `#` line comments, block comments that do
 * not nest (`/*! ... *\/` and `/*+ ... *\/` included), charset introducers (`_utf8mb4'x'`, the
 * whole of which becomes `?`), and `$` as a letter (no dollar quoting, no `$1` parameters).
 */

/** Sanitized text longer than this is cut, at a token boundary. */
export const DEFAULT_MAX_QUERY_TEXT_LENGTH = 4096;
/** Semantic conventions: summaries are cut at 255 characters, never inside an operation or a target. */
export const MAX_SUMMARY_LENGTH = 255;
/** Only this much of a (generated, bulk) query is read; nothing after it is exported. */
export const MAX_ANALYZED_LENGTH = 64 * 1024;

/** Whose lexical rules the text follows: PostgreSQL's, or MySQL's and MariaDB's. */
export type SqlDialect = 'postgresql' | 'mysql';

export interface SqlSummary {
  /** Operations and targets in order (db.query.summary); undefined when no known command starts the text. */
  readonly summary: string | undefined;
  /** The operation of the text's only statement (`SELECT`, `CREATE TABLE`), as written. */
  readonly operation: string | undefined;
  /** The only table the text's only statement works on, as written (`public.users`). */
  readonly collection: string | undefined;
  /** The procedure the text's only statement, a CALL, runs, as written (`billing.close_month`). */
  readonly procedure: string | undefined;
}

export interface SqlAnalysis extends SqlSummary {
  /** The sanitized text; empty when nothing but comments and whitespace remains. */
  readonly text: string;
}

/** `text` with its literals replaced by `?` and its comments removed, at most `maxLength` long. */
export function sanitizeSql(text: string, maxLength = DEFAULT_MAX_QUERY_TEXT_LENGTH, dialect: SqlDialect = 'postgresql'): string {
  const source = readable(text);
  return sanitize(source, lex(source, dialect), maxLength);
}

/** The operations and tables of `text`, for db.query.summary and span names. */
export function summarizeSql(text: string, dialect: SqlDialect = 'postgresql'): SqlSummary {
  const source = readable(text);
  return summarize(source, lex(source, dialect));
}

/** sanitizeSql() and summarizeSql() from one reading of the text. */
export function analyzeSql(text: string, maxLength = DEFAULT_MAX_QUERY_TEXT_LENGTH, dialect: SqlDialect = 'postgresql'): SqlAnalysis {
  const source = readable(text);
  const tokens = lex(source, dialect);
  return { text: sanitize(source, tokens, maxLength), ...summarize(source, tokens) };
}

function readable(text: string): string {
  return text.length > MAX_ANALYZED_LENGTH ? text.slice(0, MAX_ANALYZED_LENGTH) : text;
}

// --- lexer ---

type TokenKind =
  | 'space'
  | 'comment'
  | 'word'
  /** "quoted identifier" */
  | 'quoted'
  /** any string literal, including dollar-quoted, bit and hex strings */
  | 'string'
  | 'number'
  /** `$1` */
  | 'parameter'
  /** `?` */
  | 'placeholder'
  /** ( ) [ ] , ; . */
  | 'punctuation'
  /** any other single character */
  | 'operator';

interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
}

const TAB = 9;
const NEWLINE = 10;
const VERTICAL_TAB = 11;
const FORM_FEED = 12;
const RETURN = 13;
const SPACE = 32;
const DOUBLE_QUOTE = 34;
const DOLLAR = 36;
const HASH = 35;
const AMPERSAND = 38;
const QUOTE = 39;
const ASTERISK = 42;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const SLASH = 47;
const QUESTION = 63;
const BACKSLASH = 92;
const UNDERSCORE = 95;
const BACKTICK = 96;

const PUNCTUATION = new Set(['(', ')', '[', ']', ',', ';', '.']);

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === NEWLINE || c === RETURN || c === FORM_FEED || c === VERTICAL_TAB;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** PostgreSQL identifiers start with a letter, `_` or any non-ASCII character... */
function isWordStart(c: number): boolean {
  return isLetter(c) || c === UNDERSCORE || c >= 128;
}

/** ...and go on with those, digits and `$`. */
function isWordPart(c: number): boolean {
  return isWordStart(c) || isDigit(c) || c === DOLLAR;
}

function lex(text: string, dialect: SqlDialect): Token[] {
  // Resolved once per text: the reader of each token is picked by the dialect.
  const next = dialect === 'mysql' ? nextMysqlToken : nextToken;
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const start = i;
    const [kind, end] = next(text, i);
    i = end > start ? end : start + 1;
    tokens.push({ kind, start, end: i });
  }
  return tokens;
}

/** The kind and end of the token starting at `i`. */
function nextToken(text: string, i: number): [TokenKind, number] {
  const c = text.charCodeAt(i);
  const next = text.charCodeAt(i + 1);
  if (isSpace(c)) return ['space', endOfSpace(text, i)];
  if (c === MINUS && next === MINUS) {
    const newline = text.indexOf('\n', i);
    return ['comment', newline === -1 ? text.length : newline];
  }
  if (c === SLASH && next === ASTERISK) return ['comment', endOfBlockComment(text, i)];
  if (c === QUOTE) return ['string', endOfPlainString(text, i + 1)];
  if (c === DOUBLE_QUOTE) return ['quoted', endOfQuotedIdentifier(text, i + 1)];
  if (isWordStart(c)) return wordOrPrefixedString(text, i);
  if (isDigit(c) || (c === DOT && isDigit(next))) return ['number', endOfNumber(text, i)];
  if (c === DOLLAR) {
    if (isDigit(next)) {
      let j = i + 1;
      while (isDigit(text.charCodeAt(j))) j++;
      return ['parameter', j];
    }
    const body = endOfDollarTag(text, i);
    if (body !== -1) {
      const tag = text.slice(i, body);
      const close = text.indexOf(tag, body);
      return ['string', close === -1 ? text.length : close + tag.length];
    }
    return ['operator', i + 1];
  }
  if (c === QUESTION) return ['placeholder', i + 1];
  return [PUNCTUATION.has(text[i]!) ? 'punctuation' : 'operator', i + 1];
}

/** The kind and end of the token starting at `i`, by MySQL's and MariaDB's rules. */
function nextMysqlToken(text: string, i: number): [TokenKind, number] {
  const c = text.charCodeAt(i);
  const next = text.charCodeAt(i + 1);
  if (isSpace(c)) return ['space', endOfSpace(text, i)];
  // `--` without the space MySQL wants after it is still read as a comment: dropping text is safe.
  if (c === HASH || (c === MINUS && next === MINUS)) {
    const newline = text.indexOf('\n', i);
    return ['comment', newline === -1 ? text.length : newline];
  }
  if (c === SLASH && next === ASTERISK) {
    const close = text.indexOf('*/', i + 2);
    return ['comment', close === -1 ? text.length : close + 2];
  }
  if (c === QUOTE || c === DOUBLE_QUOTE) return ['string', endOfBackslashString(text, i + 1, c)];
  if (c === BACKTICK) return ['quoted', endOfQuoted(text, i + 1, BACKTICK)];
  if (isWordStart(c) || c === DOLLAR) return mysqlWordOrString(text, i);
  if (isDigit(c) || (c === DOT && isDigit(next))) return ['number', endOfNumber(text, i)];
  if (c === QUESTION) return ['placeholder', i + 1];
  return [PUNCTUATION.has(text[i]!) ? 'punctuation' : 'operator', i + 1];
}

/** A word; X'..', B'..', N'..'; or a charset introducer and its string (`_utf8mb4 'x'`), as one literal. */
function mysqlWordOrString(text: string, i: number): [TokenKind, number] {
  const prefix = text[i]!.toUpperCase();
  if (text.charCodeAt(i + 1) === QUOTE && (prefix === 'B' || prefix === 'X' || prefix === 'N')) {
    return ['string', endOfBackslashString(text, i + 2, QUOTE)];
  }
  let j = i + 1;
  while (j < text.length && isWordPart(text.charCodeAt(j))) j++;
  if (text.charCodeAt(i) === UNDERSCORE) {
    let k = j;
    while (k < text.length && isSpace(text.charCodeAt(k))) k++;
    const quote = text.charCodeAt(k);
    if (quote === QUOTE || quote === DOUBLE_QUOTE) return ['string', endOfBackslashString(text, k + 1, quote)];
  }
  return ['word', j];
}

/**
 * End of a string whose body starts at `i` where a backslash escapes any character and a doubled
 * quote is one: MySQL's '...' and "...", PostgreSQL's E'...'.
 */
function endOfBackslashString(text: string, i: number, quote: number): number {
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === quote) {
      if (text.charCodeAt(j + 1) !== quote) return j + 1;
      j++;
    }
  }
  return text.length;
}

function endOfSpace(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length && isSpace(text.charCodeAt(j))) j++;
  return j;
}

/** A word, or a string with a one-letter prefix: E'...', B'...', X'...', N'...', U&'...', U&"...". */
function wordOrPrefixedString(text: string, i: number): [TokenKind, number] {
  const prefix = text[i]!.toUpperCase();
  const next = text.charCodeAt(i + 1);
  if (next === QUOTE) {
    if (prefix === 'E') return ['string', endOfBackslashString(text, i + 2, QUOTE)];
    if (prefix === 'B' || prefix === 'X' || prefix === 'N') return ['string', endOfPlainString(text, i + 2)];
  }
  if (prefix === 'U' && next === AMPERSAND) {
    const quote = text.charCodeAt(i + 2);
    if (quote === QUOTE) return ['string', endOfPlainString(text, i + 3)];
    if (quote === DOUBLE_QUOTE) return ['quoted', endOfQuotedIdentifier(text, i + 3)];
  }
  let j = i + 1;
  while (j < text.length && isWordPart(text.charCodeAt(j))) j++;
  return ['word', j];
}

/**
 * End of a '...' string whose body starts at `i`; '' is a quote inside it. A quote preceded by an
 * odd run of backslashes would be escaped under standard_conforming_strings=off, which then
 * reads a different end: the string is taken to run to the end of the text.
 */
function endOfPlainString(text: string, i: number): number {
  let backslashes = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) {
      if (backslashes % 2 === 1) return text.length;
      if (text.charCodeAt(j + 1) !== QUOTE) return j + 1;
      j++;
      backslashes = 0;
    } else {
      backslashes = c === BACKSLASH ? backslashes + 1 : 0;
    }
  }
  return text.length;
}

function endOfQuotedIdentifier(text: string, i: number): number {
  return endOfQuoted(text, i, DOUBLE_QUOTE);
}

/** End of a quoted name whose body starts at `i`; a doubled quote is one inside it. */
function endOfQuoted(text: string, i: number, quote: number): number {
  for (let j = i; j < text.length; j++) {
    if (text.charCodeAt(j) === quote) {
      if (text.charCodeAt(j + 1) !== quote) return j + 1;
      j++;
    }
  }
  return text.length;
}

/** PostgreSQL's block comments nest. */
function endOfBlockComment(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length - 1; j++) {
    const c = text.charCodeAt(j);
    const next = text.charCodeAt(j + 1);
    if (c === SLASH && next === ASTERISK) {
      depth++;
      j++;
    } else if (c === ASTERISK && next === SLASH) {
      depth--;
      j++;
      if (depth === 0) return j + 1;
    }
  }
  return text.length;
}

/** End of the opening `$tag$` (or `$$`) at `i`, or -1 when `$` starts no dollar quote. */
function endOfDollarTag(text: string, i: number): number {
  let j = i + 1;
  if (text.charCodeAt(j) === DOLLAR) return j + 1;
  if (!isWordStart(text.charCodeAt(j))) return -1;
  j++;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === DOLLAR) return j + 1;
    if (!isWordStart(c) && !isDigit(c)) return -1;
    j++;
  }
  return -1;
}

/** 42, 4.2, .5, 1e-3, 0x1F, 0o17, 0b101, 1_000; trailing letters (junk to PostgreSQL) go with it. */
function endOfNumber(text: string, i: number): number {
  let j = i;
  const radix = text[i + 1]?.toLowerCase();
  if (text.charCodeAt(i) === 48 && (radix === 'x' || radix === 'o' || radix === 'b')) {
    j += 2;
  } else {
    while (isDigit(text.charCodeAt(j)) || text.charCodeAt(j) === UNDERSCORE) j++;
    if (text.charCodeAt(j) === DOT && text.charCodeAt(j + 1) !== DOT) {
      j++;
      while (isDigit(text.charCodeAt(j)) || text.charCodeAt(j) === UNDERSCORE) j++;
    }
    const exponent = text.charCodeAt(j) | 32;
    const sign = text.charCodeAt(j + 1);
    if (exponent === 101 /* e */ && (isDigit(sign) || ((sign === PLUS || sign === MINUS) && isDigit(text.charCodeAt(j + 2))))) {
      j += 2;
      while (isDigit(text.charCodeAt(j))) j++;
    }
  }
  while (j < text.length && isWordPart(text.charCodeAt(j))) j++;
  return j;
}

// --- sanitizing ---

/** Words after which `-5` is a negative number rather than a subtraction. */
// prettier-ignore
const SIGN_CONTEXT_WORDS = new Set([
  'AND', 'BETWEEN', 'BY', 'CASE', 'ELSE', 'IN', 'IS', 'LIKE', 'ILIKE', 'LIMIT', 'NOT', 'OFFSET', 'ON',
  'OR', 'RETURN', 'SELECT', 'SET', 'THEN', 'VALUES', 'WHEN', 'WHERE', 'HAVING',
]);
const BOOLEAN_WORDS = new Set(['TRUE', 'FALSE']);

function sanitize(text: string, tokens: readonly Token[], maxLength: number): string {
  let out = '';
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]!;
    let piece: string;
    switch (token.kind) {
      case 'string':
      case 'number':
        piece = '?';
        break;
      case 'word':
        piece = BOOLEAN_WORDS.has(upper(text, token)) ? '?' : slice(text, token);
        break;
      case 'comment':
        // Dropped (comments are free text); a space keeps the words around it apart.
        piece = out !== '' && !isSpace(out.charCodeAt(out.length - 1)) && tokens[k + 1]?.kind !== 'space' ? ' ' : '';
        break;
      case 'space':
        piece = tokens[k - 1]?.kind === 'comment' && isSpace(out.charCodeAt(out.length - 1)) ? '' : slice(text, token);
        break;
      case 'operator':
        // The sign of a negative number goes with the number into its `?`.
        piece = isSign(text, tokens, k) ? '' : slice(text, token);
        break;
      case 'punctuation': {
        const close = text[token.start] === '(' ? endOfInList(text, tokens, k) : -1;
        if (close === -1) {
          piece = slice(text, token);
        } else {
          piece = '(?)';
          k = close;
        }
        break;
      }
      default:
        piece = slice(text, token);
    }
    if (out.length + piece.length > maxLength) break;
    out += piece;
  }
  return out.trim();
}

/** True for the `-` (or `+`) of a negative (or explicitly positive) number: `= -5`, `(-1, +2)`. */
function isSign(text: string, tokens: readonly Token[], k: number): boolean {
  const token = tokens[k]!;
  const c = text.charCodeAt(token.start);
  if (c !== MINUS && c !== PLUS) return false;
  const next = tokens[k + 1];
  if (next === undefined || next.kind !== 'number' || next.start !== token.end) return false;
  const previous = previousSignificant(tokens, k);
  if (previous === undefined) return true;
  switch (previous.kind) {
    case 'operator':
      return true;
    case 'punctuation': {
      const mark = text[previous.start];
      return mark !== ')' && mark !== ']';
    }
    case 'word':
      return SIGN_CONTEXT_WORDS.has(upper(text, previous));
    default:
      return false;
  }
}

/**
 * For the `(` at `k`: when it opens `IN (...)` holding nothing but literals and `?`, the index of
 * its `)`; otherwise -1. Lists of `$n` parameters stay as they are.
 */
function endOfInList(text: string, tokens: readonly Token[], k: number): number {
  const previous = previousSignificant(tokens, k);
  if (previous === undefined || previous.kind !== 'word' || upper(text, previous) !== 'IN') return -1;
  let values = 0;
  for (let j = k + 1; j < tokens.length; j++) {
    const token = tokens[j]!;
    switch (token.kind) {
      case 'space':
      case 'comment':
        break;
      case 'string':
      case 'number':
      case 'placeholder':
        values++;
        break;
      case 'word': {
        const word = upper(text, token);
        if (!BOOLEAN_WORDS.has(word) && word !== 'NULL') return -1;
        values++;
        break;
      }
      case 'operator':
        if (!isSign(text, tokens, j)) return -1;
        break;
      case 'punctuation': {
        const mark = text[token.start];
        if (mark === ')') return values > 0 ? j : -1;
        if (mark !== ',') return -1;
        break;
      }
      default:
        return -1;
    }
  }
  return -1;
}

function previousSignificant(tokens: readonly Token[], k: number): Token | undefined {
  for (let j = k - 1; j >= 0; j--) {
    const kind = tokens[j]!.kind;
    if (kind !== 'space' && kind !== 'comment') return tokens[j];
  }
  return undefined;
}

function slice(text: string, token: Token): string {
  return text.slice(token.start, token.end);
}

function upper(text: string, token: Token): string {
  return text.slice(token.start, token.end).toUpperCase();
}

// --- summarizing ---

/**
 * How the summary reads a statement, by its first word (PostgreSQL's SQL commands). A text that
 * starts with any other word gets no summary: summaries must stay low in cardinality.
 */
type Command =
  /** SELECT, INSERT, UPDATE, DELETE, MERGE, and WITH (whose first word is not an operation) */
  | 'query'
  | 'with'
  /** the command, then any query inside it: EXPLAIN SELECT ... */
  | 'wrapper'
  /** CREATE / ALTER / DROP <kind> <name> */
  | 'definition'
  /** the command and the tables it names: TRUNCATE a, b */
  | 'tables'
  /** the command and the routine or statement it names: CALL p, EXECUTE s */
  | 'routine'
  /** the command alone: BEGIN, SET, VACUUM, ... */
  | 'plain';

// prettier-ignore
const COMMANDS = new Map<string, Command>([
  // REPLACE INTO (MySQL) is an operation only as a statement's first word, never `replace(...)`.
  ...['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'REPLACE'].map((word) => [word, 'query'] as const),
  ['WITH', 'with'],
  ...['EXPLAIN', 'DECLARE', 'PREPARE'].map((word) => [word, 'wrapper'] as const),
  ...['CREATE', 'ALTER', 'DROP'].map((word) => [word, 'definition'] as const),
  ...['TRUNCATE', 'LOCK', 'COPY', 'TABLE'].map((word) => [word, 'tables'] as const),
  ...['CALL', 'EXECUTE'].map((word) => [word, 'routine'] as const),
  ...[
    'ABORT', 'ANALYZE', 'ANALYSE', 'BEGIN', 'CHECKPOINT', 'CLOSE', 'CLUSTER', 'COMMENT', 'COMMIT',
    'DEALLOCATE', 'DISCARD', 'DO', 'END', 'FETCH', 'GRANT', 'IMPORT', 'LISTEN', 'LOAD', 'MOVE',
    'NOTIFY', 'REASSIGN', 'REFRESH', 'REINDEX', 'RELEASE', 'RESET', 'REVOKE', 'ROLLBACK', 'SAVEPOINT',
    'SECURITY', 'SET', 'SHOW', 'START', 'UNLISTEN', 'VACUUM', 'VALUES',
  ].map((word) => [word, 'plain'] as const),
]);

/** Operations that may appear inside a statement (subqueries, INSERT ... SELECT, data-modifying WITH). */
const OPERATIONS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE']);
/**
 * Words after which INSERT, UPDATE or DELETE is no operation of its own: ON CONFLICT DO UPDATE,
 * FOR UPDATE, FOR NO KEY UPDATE, ON DELETE CASCADE, MERGE's THEN UPDATE, triggers' INSERT OR UPDATE.
 */
const NOT_AN_OPERATION_AFTER = new Set(['DO', 'FOR', 'KEY', 'ON', 'THEN', 'OR', 'OF', 'BEFORE', 'AFTER', 'INSTEAD']);
/** Words that end a table reference: they are never a table name or an alias. */
// prettier-ignore
const CLAUSE_WORDS = new Set([
  'AS', 'CROSS', 'DEFAULT', 'DO', 'ELSE', 'END', 'EXCEPT', 'FETCH', 'FOR', 'FROM', 'FULL', 'GROUP',
  'HAVING', 'INNER', 'INTERSECT', 'INTO', 'JOIN', 'LATERAL', 'LEFT', 'LIMIT', 'NATURAL', 'OFFSET',
  'ON', 'ONLY', 'ORDER', 'OUTER', 'OVERRIDING', 'RETURNING', 'RIGHT', 'SELECT', 'SET', 'TABLESAMPLE',
  'THEN', 'UNION', 'USING', 'VALUES', 'WHEN', 'WHERE', 'WINDOW', 'WITH',
]);
/** Operations whose FROM and JOIN name tables (not `extract(year FROM ts)`). */
const READS_TABLES = new Set(['SELECT', 'DELETE', 'UPDATE']);
// prettier-ignore
const DEFINITION_MODIFIERS = new Set(['OR', 'REPLACE', 'TEMP', 'TEMPORARY', 'UNLOGGED', 'GLOBAL', 'LOCAL', 'UNIQUE', 'RECURSIVE', 'TRUSTED', 'PROCEDURAL']);
// prettier-ignore
const DEFINITION_KINDS = new Set([
  'TABLE', 'VIEW', 'INDEX', 'SEQUENCE', 'SCHEMA', 'DATABASE', 'FUNCTION', 'PROCEDURE', 'TRIGGER',
  'TYPE', 'EXTENSION', 'ROLE', 'USER', 'DOMAIN', 'POLICY', 'RULE', 'AGGREGATE', 'COLLATION',
  'PUBLICATION', 'SUBSCRIPTION', 'TABLESPACE', 'SERVER', 'LANGUAGE',
]);
/** Two-word kinds: MATERIALIZED VIEW, FOREIGN TABLE. */
const DEFINITION_KIND_PREFIXES = new Set(['MATERIALIZED', 'FOREIGN']);
/** Kinds whose object is a collection (db.collection.name). */
const COLLECTION_KINDS = new Set(['TABLE', 'VIEW']);
/** Skipped before a name: IF [NOT] EXISTS, CONCURRENTLY, ONLY, and TRUNCATE's and LOCK's TABLE. */
const NAME_PREFIXES = new Set(['IF', 'NOT', 'EXISTS', 'CONCURRENTLY', 'ONLY', 'TABLE']);
/** Skipped before a table reference: FROM ONLY t, JOIN LATERAL f(...). */
const TABLE_PREFIXES = new Set(['ONLY', 'LATERAL']);

/** An identifier no dialect needs to quote: letters, digits, `_` and `$`, not starting with a digit. */
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** What a target of the summary is: a table or view, a procedure a CALL runs, or anything else. */
type TargetKind = 'collection' | 'procedure' | 'other';

interface Target {
  readonly name: string;
  readonly kind: TargetKind;
}

function summarize(text: string, all: readonly Token[]): SqlSummary {
  const tokens = all.filter((token) => token.kind !== 'space' && token.kind !== 'comment');
  const summary = new Summary(text, tokens);
  summary.read();
  return summary.result();
}

class Summary {
  private readonly parts: string[] = [];
  private length = 0;
  private full = false;
  private statements = 0;
  /** The first statement's operation and targets. */
  private operation: string | undefined;
  private readonly targets: Target[] = [];

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  read(): void {
    let start = 0;
    while (start < this.tokens.length) {
      let end = start;
      while (end < this.tokens.length && !this.is(end, ';')) end++;
      if (end > start) this.statement(start, end);
      start = end + 1;
    }
  }

  result(): SqlSummary {
    const single = this.statements === 1;
    const target = single && this.targets.length === 1 ? this.targets[0] : undefined;
    return {
      summary: this.parts.length === 0 ? undefined : this.parts.join(' '),
      operation: single ? this.operation : undefined,
      collection: target?.kind === 'collection' ? target.name : undefined,
      procedure: target?.kind === 'procedure' ? target.name : undefined,
    };
  }

  /** Tokens start to end (exclusive) are one statement. */
  private statement(start: number, end: number): void {
    this.statements++;
    // `(SELECT ...) UNION (SELECT ...)` starts with a parenthesis.
    const command = this.is(start, '(') ? 'query' : this.tokens[start]!.kind === 'word' ? COMMANDS.get(this.upper(start)) : undefined;
    if (command === undefined) return;
    let k = start + 1;
    let nested: 'all' | 'select' | 'none' = 'none';
    switch (command) {
      case 'query':
        k = start;
        nested = 'all';
        break;
      case 'with':
        nested = 'all';
        break;
      case 'wrapper':
        // PREPARE name AS ..., DECLARE name CURSOR FOR ...: the name is a handle, not a target.
        this.operationFound(this.word(start));
        nested = this.upper(start) === 'DECLARE' ? 'select' : 'all';
        break;
      case 'definition':
        k = this.definition(start);
        // CREATE TABLE t AS SELECT ..., CREATE VIEW v AS SELECT ...
        nested = this.upper(start) === 'CREATE' ? 'select' : 'none';
        break;
      case 'tables':
        this.operationFound(this.word(start));
        k = this.nameList(k, 'collection');
        // COPY (SELECT ...) TO STDOUT
        nested = 'select';
        break;
      case 'routine': {
        this.operationFound(this.word(start));
        const name = this.qualifiedName(k);
        // CALL runs a procedure; EXECUTE runs a prepared statement, whose name is only a handle.
        if (name !== undefined) this.targetFound(name.text, this.upper(start) === 'CALL' ? 'procedure' : 'other');
        break;
      }
      case 'plain':
        this.operationFound(this.word(start));
        break;
    }
    if (nested !== 'none') this.scan(k, end, nested === 'select', command === 'with', start);
  }

  /** Finds operations, and the tables they name, from k to end, following parentheses. */
  private scan(k: number, end: number, selectOnly: boolean, isWith: boolean, statementStart: number): void {
    // The operation in force at each depth of parentheses.
    const operations: Array<string | undefined> = [undefined];
    for (; k < end; k++) {
      if (this.is(k, '(')) {
        operations.push(undefined);
        continue;
      }
      if (this.is(k, ')')) {
        if (operations.length > 1) operations.pop();
        continue;
      }
      if (this.tokens[k]!.kind !== 'word') continue;
      const word = this.upper(k);
      if (OPERATIONS.has(word) || (word === 'REPLACE' && k === statementStart)) {
        if (selectOnly && word !== 'SELECT') continue;
        if (word !== 'SELECT' && k > statementStart && NOT_AN_OPERATION_AFTER.has(this.upperAt(k - 1))) continue;
        operations[operations.length - 1] = word;
        // The queries a WITH defines come before the statement's own operation.
        if (operations.length === 1 || !isWith) this.operationFound(this.word(k));
        else this.add(this.word(k));
        if (word === 'UPDATE') k = this.tableReference(k + 1, false) - 1;
        continue;
      }
      const operation = operations[operations.length - 1];
      let next = k + 1;
      switch (word) {
        case 'FROM':
          // `a IS DISTINCT FROM b` compares; `extract(year FROM ts)` has no operation at its depth.
          if (operation !== undefined && READS_TABLES.has(operation) && this.upperAt(k - 1) !== 'DISTINCT') next = this.tableList(k + 1);
          break;
        case 'JOIN':
          if (operation !== undefined && READS_TABLES.has(operation)) next = this.tableReference(k + 1, true);
          break;
        case 'INTO':
          if (operation === 'INSERT' || operation === 'REPLACE' || operation === 'MERGE' || operation === 'SELECT')
            next = this.tableReference(k + 1, false);
          break;
        case 'USING':
          if (operation === 'MERGE' || operation === 'DELETE') next = this.tableReference(k + 1, true);
          break;
      }
      k = next - 1;
    }
  }

  /** CREATE [modifiers] <kind> [IF NOT EXISTS] <name>; returns the index after what it read. */
  private definition(start: number): number {
    let k = start + 1;
    while (this.isWordIn(k, DEFINITION_MODIFIERS)) k++;
    const kindStart = k;
    if (this.isWordIn(k, DEFINITION_KIND_PREFIXES)) k++;
    if (!this.isWordIn(k, DEFINITION_KINDS)) {
      this.operationFound(this.word(start));
      return start + 1;
    }
    const targetKind: TargetKind = COLLECTION_KINDS.has(this.upper(k)) ? 'collection' : 'other';
    const kind: string[] = [];
    for (let j = kindStart; j <= k; j++) kind.push(this.word(j));
    this.operationFound(`${this.word(start)} ${kind.join(' ')}`);
    k++;
    if (this.upper(start) === 'DROP') return this.nameList(k, targetKind);
    while (this.isWordIn(k, NAME_PREFIXES)) k++;
    const name = this.qualifiedName(k);
    if (name === undefined) return k;
    this.targetFound(name.text, targetKind);
    return name.end;
  }

  /** name [, name ...], each after optional IF EXISTS / ONLY / TABLE words. */
  private nameList(k: number, kind: TargetKind): number {
    for (;;) {
      while (this.isWordIn(k, NAME_PREFIXES)) k++;
      const name = this.qualifiedName(k);
      if (name === undefined) return k;
      this.targetFound(name.text, kind);
      k = name.end;
      if (this.is(k, '*')) k++; // TRUNCATE t * (with its descendant tables)
      if (!this.is(k, ',')) return k;
      k++;
    }
  }

  /** FROM a [alias], b [alias], ...; a subquery ends the list (the scan reads it). */
  private tableList(k: number): number {
    for (;;) {
      const next = this.tableReference(k, true);
      if (next === k || !this.is(next, ',')) return next;
      k = next + 1;
    }
  }

  /**
   * One table reference at k: [ONLY | LATERAL] name [[AS] alias]. Where functions may appear, a
   * name followed by `(` is one (FROM generate_series(...)), not a table.
   */
  private tableReference(k: number, functionsPossible: boolean): number {
    while (this.isWordIn(k, TABLE_PREFIXES)) k++;
    const name = this.qualifiedName(k);
    if (name === undefined) return k;
    if (functionsPossible && this.is(name.end, '(')) return name.end;
    this.targetFound(name.text, 'collection');
    k = name.end;
    if (this.tokens[k]?.kind === 'word' && this.upper(k) === 'AS') k++;
    if (this.isName(k)) k++;
    return k;
  }

  /** schema.table, "Quoted"."Name": the parts joined by dots, as written. */
  private qualifiedName(k: number): { text: string; end: number } | undefined {
    if (!this.isName(k)) return undefined;
    const parts = [this.namePart(k)];
    let end = k + 1;
    while (this.is(end, '.') && (this.tokens[end + 1]?.kind === 'word' || this.tokens[end + 1]?.kind === 'quoted')) {
      parts.push(this.namePart(end + 1));
      end += 2;
    }
    return { text: parts.join('.'), end };
  }

  /**
   * One part of a name. ORMs quote every identifier (`"article"`, `` `users` ``): a quoted name
   * that reads the same without its quotes loses them, so summaries read `SELECT article user`
   * whichever ORM wrote the SQL; one that needs them (`"song list"`, `"a.b"`) keeps them, as
   * the conventions' examples do.
   */
  private namePart(k: number): string {
    const written = this.word(k);
    if (this.tokens[k]!.kind !== 'quoted') return written;
    const inner = written.slice(1, -1);
    return written.length > 2 && written[written.length - 1] === written[0] && PLAIN_IDENTIFIER.test(inner) ? inner : written;
  }

  private isName(k: number): boolean {
    const token = this.tokens[k];
    if (token === undefined) return false;
    return token.kind === 'quoted' || (token.kind === 'word' && !CLAUSE_WORDS.has(this.upper(k)));
  }

  private isWordIn(k: number, words: ReadonlySet<string>): boolean {
    return this.tokens[k]?.kind === 'word' && words.has(this.upper(k));
  }

  private operationFound(operation: string): void {
    if (this.statements === 1 && this.operation === undefined) this.operation = operation;
    this.add(operation);
  }

  private targetFound(name: string, kind: TargetKind): void {
    if (this.statements === 1) this.targets.push({ name, kind });
    this.add(name);
  }

  private add(part: string): void {
    if (this.full) return;
    const length = this.length + (this.parts.length === 0 ? 0 : 1) + part.length;
    if (length > MAX_SUMMARY_LENGTH) {
      this.full = true;
      return;
    }
    this.parts.push(part);
    this.length = length;
  }

  /** True when the token at k is the punctuation mark or operator `mark`. */
  private is(k: number, mark: string): boolean {
    const token = this.tokens[k];
    return token !== undefined && (token.kind === 'punctuation' || token.kind === 'operator') && this.text[token.start] === mark;
  }

  private word(k: number): string {
    return slice(this.text, this.tokens[k]!);
  }

  private upper(k: number): string {
    return upper(this.text, this.tokens[k]!);
  }

  /** The word at k upper-cased, or the mark there; '' outside the tokens. */
  private upperAt(k: number): string {
    const token = this.tokens[k];
    if (token === undefined) return '';
    return token.kind === 'word' ? upper(this.text, token) : slice(this.text, token);
  }
}
