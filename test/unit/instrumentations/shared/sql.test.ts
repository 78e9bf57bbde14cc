import { describe, expect, it } from 'vitest';
import {
  analyzeSql,
  DEFAULT_MAX_QUERY_TEXT_LENGTH,
  MAX_ANALYZED_LENGTH,
  MAX_SUMMARY_LENGTH,
  sanitizeSql,
  summarizeSql,
} from '../../../../instrumentations/shared/sql';

/** [input, sanitized] */
const SANITIZED: ReadonlyArray<readonly [string, string]> = [
  // strings
  ["SELECT * FROM users WHERE name = 'alice'", 'SELECT * FROM users WHERE name = ?'],
  ["SELECT 'it''s'", 'SELECT ?'],
  ["SELECT '' , 'a'''", 'SELECT ? , ?'],
  ["SELECT 'a' 'b'", 'SELECT ? ?'],
  ["SELECT 'multi\nline'", 'SELECT ?'],
  ["SELECT E'it\\'s', e'\\\\'", 'SELECT ?, ?'],
  ["SELECT E'a''b\\n' AS x", 'SELECT ? AS x'],
  ["SELECT B'0101', X'1F', N'nchar', U&'d\\0061t'", 'SELECT ?, ?, ?, ?'],
  ["SELECT U&'d!0061t' UESCAPE '!'", 'SELECT ? UESCAPE ?'],
  ["SELECT '-- not a comment', '/* nor this */'", 'SELECT ?, ?'],
  ["SELECT 'unterminated", 'SELECT ?'],
  // dollar quoting
  ["SELECT $$a 'b' c$$", 'SELECT ?'],
  ['SELECT $fn$ body $$ inner $$ $fn$, 1', 'SELECT ?, ?'],
  ["DO $x$ BEGIN RAISE NOTICE 'hi'; END $x$", 'DO ?'],
  ['SELECT $tag$ never closed', 'SELECT ?'],
  ['SELECT a$b FROM t', 'SELECT a$b FROM t'],
  // numbers
  ['SELECT 42, 4.2, .5, 5., 1e10, 1.5E-3, 2e+7', 'SELECT ?, ?, ?, ?, ?, ?, ?'],
  ['SELECT 0x1F, 0o17, 0b101, 1_000_000', 'SELECT ?, ?, ?, ?'],
  ['SELECT 123abc', 'SELECT ?'],
  ['SELECT * FROM t WHERE a = -5 AND b > -1.5e3 AND c < +2', 'SELECT * FROM t WHERE a = ? AND b > ? AND c < ?'],
  ['SELECT -1, (-2), x - 3, x-4, x * -5', 'SELECT ?, (?), x - ?, x-?, x * ?'],
  ['SELECT t1.col2, col_3 FROM t1', 'SELECT t1.col2, col_3 FROM t1'],
  ['SELECT a[1], b[-1]', 'SELECT a[?], b[?]'],
  // booleans and NULL
  ['UPDATE t SET active = TRUE, deleted = false WHERE x IS NULL', 'UPDATE t SET active = ?, deleted = ? WHERE x IS NULL'],
  // placeholders stay
  ['SELECT * FROM t WHERE id = $1 AND name = $2', 'SELECT * FROM t WHERE id = $1 AND name = $2'],
  ['SELECT * FROM t WHERE id = ? AND x = :name', 'SELECT * FROM t WHERE id = ? AND x = :name'],
  ['SELECT x::int, y::text[] FROM t', 'SELECT x::int, y::text[] FROM t'],
  // IN-lists
  ['SELECT * FROM t WHERE id IN (1, 2, 3)', 'SELECT * FROM t WHERE id IN (?)'],
  ["SELECT * FROM t WHERE id NOT IN ('a','b') AND x in(-1,+2, NULL)", 'SELECT * FROM t WHERE id NOT IN (?) AND x in(?)'],
  ['SELECT * FROM t WHERE id IN (?, ?, ?)', 'SELECT * FROM t WHERE id IN (?)'],
  ['SELECT * FROM t WHERE id IN ($1, $2)', 'SELECT * FROM t WHERE id IN ($1, $2)'],
  ['SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = 1)', 'SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = ?)'],
  ['SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))', 'SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?))'],
  // VALUES keep their shape
  ["INSERT INTO t (a,b) VALUES (1,'x'),(2,'y')", 'INSERT INTO t (a,b) VALUES (?,?),(?,?)'],
  // comments are dropped
  ['SELECT 1 -- the answer', 'SELECT ?'],
  ["SELECT a /* it's */ FROM t", 'SELECT a FROM t'],
  ['SELECT a/*x*/FROM t', 'SELECT a FROM t'],
  ["SELECT /* outer /* nested 'x' */ still */ 1", 'SELECT ?'],
  ["SELECT 1 /* unterminated 'secret'", 'SELECT ?'],
  ["/*controller='users'*/ SELECT 1", 'SELECT ?'],
  ['SELECT a -- note\nFROM t', 'SELECT a FROM t'],
  // quoted identifiers stay
  ['SELECT "first name", "a""b" FROM "My Schema"."Users"', 'SELECT "first name", "a""b" FROM "My Schema"."Users"'],
  ['SELECT U&"d\\0061t" FROM t', 'SELECT U&"d\\0061t" FROM t'],
  // whitespace and layout are kept
  ['  SELECT a,\n       b\n  FROM t\n WHERE c = 1;  ', 'SELECT a,\n       b\n  FROM t\n WHERE c = ?;'],
  ['SELECT 1; DROP TABLE x', 'SELECT ?; DROP TABLE x'],
  ['', ''],
  ['-- only a comment', ''],
  // date, interval and typed literals
  ["SELECT DATE '2024-01-01' + INTERVAL '1 day'", 'SELECT DATE ? + INTERVAL ?'],
  ["SELECT '{\"a\":1}'::jsonb ? 'a'", 'SELECT ?::jsonb ? ?'],
];

/** A backslash-escaped quote in a plain string: readings differ, so the rest is one literal. */
const AMBIGUOUS: ReadonlyArray<readonly [string, string]> = [
  ["SELECT * FROM t WHERE a = 'x\\' OR secret = 'leak' AND b = 1", 'SELECT * FROM t WHERE a = ?'],
  ["SELECT 'a\\'' , 'leak'", 'SELECT ?'],
  ["SELECT 'C:\\\\' AS path, 'b'", 'SELECT ? AS path, ?'],
  ["SELECT 'a\\d+' ~ x, 'b'", 'SELECT ? ~ x, ?'],
];

describe('sanitizeSql', () => {
  it.each(SANITIZED)('%j', (input, expected) => {
    expect(sanitizeSql(input)).toBe(expected);
  });

  it.each(AMBIGUOUS)('treats what follows a backslash-escaped quote as a literal: %j', (input, expected) => {
    expect(sanitizeSql(input)).toBe(expected);
  });

  it('cuts long text at a token boundary, never inside or after a literal', () => {
    const secret = 'secret-4f2a';
    const text = `SELECT a FROM t WHERE x = 'it''s ${secret}' AND y = 1`;
    for (let max = 0; max <= text.length; max++) {
      const out = sanitizeSql(text, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out).not.toContain('secret');
      expect(out).not.toContain("'");
      expect('SELECT a FROM t WHERE x = ? AND y = ?'.startsWith(out)).toBe(true);
    }
  });

  it('keeps a default limit and reads no further than MAX_ANALYZED_LENGTH', () => {
    const values = Array.from({ length: 5000 }, (_, i) => `(${i}, 'v${i}')`).join(', ');
    const out = sanitizeSql(`INSERT INTO t (a, b) VALUES ${values}`);
    expect(out.length).toBeLessThanOrEqual(DEFAULT_MAX_QUERY_TEXT_LENGTH);
    expect(out).toMatch(/^INSERT INTO t \(a, b\) VALUES \(\?, \?\), \(\?, \?\)/);
    expect(out).not.toMatch(/v\d/);
    // A literal cut by the reading limit is still a literal.
    const long = `SELECT '${'x'.repeat(MAX_ANALYZED_LENGTH)}' || 'tail-secret'`;
    expect(sanitizeSql(long, Infinity)).toBe('SELECT ?');
  });

  it('never lets a character of any literal through (planted values)', () => {
    const planted = 'secret-4f2a';
    const shapes = [
      `'${planted}'`,
      `E'${planted}\\''`,
      `$$${planted}$$`,
      `$q$${planted}$q$`,
      `U&'${planted}'`,
      `N'${planted}'`,
      `'x''${planted}'`,
      `'\\' ${planted}'`,
      `'${planted}\\'`,
    ];
    for (const shape of shapes) {
      for (const query of [`SELECT ${shape}`, `SELECT * FROM t WHERE a IN (${shape}, 1)`, `INSERT INTO t VALUES (${shape}) -- c`]) {
        expect(sanitizeSql(query), query).not.toContain('secret');
        expect(summarizeSql(query).summary ?? '', query).not.toContain('secret');
      }
    }
  });
});

/** [input, summary, operation, collection, procedure (when there is one)] */
const SUMMARIES: ReadonlyArray<readonly [string, string | undefined, string | undefined, string | undefined, (string | undefined)?]> = [
  ['SELECT * FROM wuser_table WHERE username = ?', 'SELECT wuser_table', 'SELECT', 'wuser_table'],
  ['select id from users u where u.id = $1', 'select users', 'select', 'users'],
  ['SELECT 1', 'SELECT', 'SELECT', undefined],
  [
    'INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM orders WHERE order_id = ?',
    'INSERT shipping_details SELECT orders',
    'INSERT',
    undefined,
  ],
  ['SELECT * FROM songs, artists WHERE songs.artist_id = artists.id', 'SELECT songs artists', 'SELECT', undefined],
  [
    'SELECT order_date FROM (SELECT * FROM orders o JOIN customers c ON o.customer_id = c.customer_id)',
    'SELECT SELECT orders customers',
    'SELECT',
    undefined,
  ],
  ['SELECT * FROM "song list", public.artists AS a', 'SELECT "song list" public.artists', 'SELECT', undefined],
  ['SELECT * FROM "My Schema"."Users"', 'SELECT "My Schema".Users', 'SELECT', '"My Schema".Users'],
  ["INSERT INTO orders (a,b) VALUES (1,'x'),(2,'y')", 'INSERT orders', 'INSERT', 'orders'],
  ['INSERT INTO t AS x (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET a = EXCLUDED.a RETURNING id', 'INSERT t', 'INSERT', 't'],
  ['UPDATE accounts SET balance = balance - 5 WHERE id = 5', 'UPDATE accounts', 'UPDATE', 'accounts'],
  ['UPDATE ONLY a SET x = b.x FROM b WHERE a.id = b.id', 'UPDATE a b', 'UPDATE', undefined],
  ['UPDATE t SET a = (SELECT max(b) FROM u)', 'UPDATE t SELECT u', 'UPDATE', undefined],
  ['DELETE FROM sessions WHERE expires < now()', 'DELETE sessions', 'DELETE', 'sessions'],
  ['DELETE FROM t USING u WHERE t.id = u.id', 'DELETE t u', 'DELETE', undefined],
  ['DELETE FROM t WHERE id IN (SELECT id FROM u)', 'DELETE t SELECT u', 'DELETE', undefined],
  ['SELECT a.x, b.y FROM a LEFT OUTER JOIN b ON a.id = b.id CROSS JOIN c NATURAL JOIN d', 'SELECT a b c d', 'SELECT', undefined],
  ['SELECT * FROM a JOIN LATERAL (SELECT * FROM b WHERE b.a = a.id) x ON true', 'SELECT a SELECT b', 'SELECT', undefined],
  ['SELECT * FROM a INNER JOIN b USING (id) WHERE x = 1 ORDER BY y LIMIT 5', 'SELECT a b', 'SELECT', undefined],
  ['SELECT extract(year FROM created_at), substring(name FROM 1 FOR 2) FROM events', 'SELECT events', 'SELECT', 'events'],
  ['SELECT a IS DISTINCT FROM b FROM t', 'SELECT t', 'SELECT', 't'],
  ['SELECT * FROM generate_series(1, 10) g', 'SELECT', 'SELECT', undefined],
  ['SELECT count(*) FROM ONLY parents', 'SELECT parents', 'SELECT', 'parents'],
  ['SELECT * FROM t FOR UPDATE', 'SELECT t', 'SELECT', 't'],
  ['SELECT * FROM t FOR NO KEY UPDATE OF t SKIP LOCKED', 'SELECT t', 'SELECT', 't'],
  ['SELECT a FROM t UNION ALL SELECT a FROM u', 'SELECT t SELECT u', 'SELECT', undefined],
  ['(SELECT a FROM t) UNION (SELECT a FROM u)', 'SELECT t SELECT u', 'SELECT', undefined],
  ['SELECT * INTO archive FROM t', 'SELECT archive t', 'SELECT', undefined],
  [
    'WITH recent AS (SELECT * FROM orders WHERE d > $1) SELECT * FROM recent JOIN users ON true',
    'SELECT orders SELECT recent users',
    'SELECT',
    undefined,
  ],
  ['WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved', 'DELETE a INSERT b SELECT moved', 'INSERT', undefined],
  ['WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n', 'SELECT SELECT n SELECT n', 'SELECT', undefined],
  [
    'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)',
    'MERGE t s',
    'MERGE',
    undefined,
  ],
  ['CREATE TABLE users (id serial PRIMARY KEY, org int REFERENCES orgs ON DELETE CASCADE)', 'CREATE TABLE users', 'CREATE TABLE', 'users'],
  ['create temporary table if not exists tmp_x (a int)', 'create table tmp_x', 'create table', 'tmp_x'],
  ['CREATE TABLE t2 AS SELECT * FROM t1', 'CREATE TABLE t2 SELECT t1', 'CREATE TABLE', undefined],
  ['CREATE OR REPLACE VIEW v AS SELECT a FROM t', 'CREATE VIEW v SELECT t', 'CREATE VIEW', undefined],
  ['CREATE MATERIALIZED VIEW mv AS SELECT 1', 'CREATE MATERIALIZED VIEW mv SELECT', 'CREATE MATERIALIZED VIEW', 'mv'],
  ['CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_email ON users (email)', 'CREATE INDEX idx_email', 'CREATE INDEX', undefined],
  ['CREATE INDEX ON users (email)', 'CREATE INDEX', 'CREATE INDEX', undefined],
  ['CREATE FUNCTION f(a int) RETURNS int AS $$ SELECT a FROM secret_table $$ LANGUAGE sql', 'CREATE FUNCTION f', 'CREATE FUNCTION', undefined],
  ['CREATE TRIGGER trg BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()', 'CREATE TRIGGER trg', 'CREATE TRIGGER', undefined],
  ['CREATE EXTENSION IF NOT EXISTS pgcrypto', 'CREATE EXTENSION pgcrypto', 'CREATE EXTENSION', undefined],
  ['DROP TABLE IF EXISTS a, public.b CASCADE', 'DROP TABLE a public.b', 'DROP TABLE', undefined],
  ['DROP TABLE tracelet_x', 'DROP TABLE tracelet_x', 'DROP TABLE', 'tracelet_x'],
  ['ALTER TABLE ONLY t ADD COLUMN c int', 'ALTER TABLE t', 'ALTER TABLE', 't'],
  ['ALTER SYSTEM SET work_mem = 1', 'ALTER', 'ALTER', undefined],
  ['TRUNCATE TABLE a, b RESTART IDENTITY', 'TRUNCATE a b', 'TRUNCATE', undefined],
  ['TRUNCATE t *', 'TRUNCATE t', 'TRUNCATE', 't'],
  ['LOCK TABLE t IN ACCESS EXCLUSIVE MODE', 'LOCK t', 'LOCK', 't'],
  ['COPY t (a, b) FROM STDIN WITH (FORMAT csv)', 'COPY t', 'COPY', 't'],
  ['COPY (SELECT * FROM t) TO STDOUT', 'COPY SELECT t', 'COPY', 't'],
  ['CALL refresh_stats($1, 2)', 'CALL refresh_stats', 'CALL', undefined, 'refresh_stats'],
  ['call billing.close_month()', 'call billing.close_month', 'call', undefined, 'billing.close_month'],
  ['CALL "Refresh Stats"()', 'CALL "Refresh Stats"', 'CALL', undefined, '"Refresh Stats"'],
  // a procedure only for a text that is one CALL; EXECUTE runs a prepared statement
  ['CALL a(); CALL b()', 'CALL a CALL b', undefined, undefined],
  ['EXECUTE get_user(5)', 'EXECUTE get_user', 'EXECUTE', undefined],
  ['PREPARE get_user (int) AS SELECT * FROM users WHERE id = $1', 'PREPARE SELECT users', 'PREPARE', 'users'],
  ['EXPLAIN (ANALYZE, FORMAT JSON) DELETE FROM t', 'EXPLAIN DELETE t', 'EXPLAIN', 't'],
  ['DECLARE c CURSOR FOR SELECT * FROM t', 'DECLARE SELECT t', 'DECLARE', 't'],
  ['BEGIN', 'BEGIN', 'BEGIN', undefined],
  ['begin isolation level serializable', 'begin', 'begin', undefined],
  ['COMMIT;', 'COMMIT', 'COMMIT', undefined],
  ['START TRANSACTION', 'START', 'START', undefined],
  ['SET search_path TO app, public', 'SET', 'SET', undefined],
  ['SHOW server_version', 'SHOW', 'SHOW', undefined],
  ['VACUUM ANALYZE t', 'VACUUM', 'VACUUM', undefined],
  ["NOTIFY channel, 'payload'", 'NOTIFY', 'NOTIFY', undefined],
  ['VALUES (1, 2), (3, 4)', 'VALUES', 'VALUES', undefined],
  ['GRANT SELECT, INSERT ON t TO app', 'GRANT', 'GRANT', undefined],
  ['DO $$ BEGIN PERFORM 1; END $$', 'DO', 'DO', undefined],
  // several statements
  ['BEGIN; UPDATE a SET x = 1; COMMIT', 'BEGIN UPDATE a COMMIT', undefined, undefined],
  ['SELECT 1; SELECT * FROM t;', 'SELECT SELECT t', undefined, undefined],
  // nothing known
  ['', undefined, undefined, undefined],
  ['   -- comment only', undefined, undefined, undefined],
  ['hello world', undefined, undefined, undefined],
  ["'just a string'", undefined, undefined, undefined],
  // comments and literals never count
  ["SELECT /* FROM secret */ a FROM t WHERE b = 'FROM x'", 'SELECT t', 'SELECT', 't'],
];

describe('summarizeSql', () => {
  it.each(SUMMARIES.map((row) => ({ row })))('$row', ({ row: [input, summary, operation, collection, procedure] }) => {
    expect(summarizeSql(input)).toEqual({ summary, operation, collection, procedure });
  });

  it(`stops at ${MAX_SUMMARY_LENGTH} characters, between parts`, () => {
    const tables = Array.from({ length: 60 }, (_, i) => `table_number_${i}`);
    const { summary } = summarizeSql(`SELECT * FROM ${tables.join(', ')}`);
    expect(summary!.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
    expect(summary!.split(' ').every((part) => part === 'SELECT' || tables.includes(part))).toBe(true);
    expect(summary!.length).toBeGreaterThan(MAX_SUMMARY_LENGTH - 'table_number_00'.length - 1);
  });
});

describe('analyzeSql', () => {
  it('gives the sanitized text and the summary from one reading', () => {
    expect(analyzeSql("SELECT * FROM users WHERE email = 'a@b.c'", 20)).toEqual({
      text: 'SELECT * FROM users',
      summary: 'SELECT users',
      operation: 'SELECT',
      collection: 'users',
    });
  });
});

describe('mysql dialect', () => {
  /** [input, sanitized] under MySQL's and MariaDB's lexical rules */
  const MYSQL_SANITIZED: ReadonlyArray<readonly [string, string]> = [
    ['SELECT `a``b`, `t`.`c` FROM `db`.`t`', 'SELECT `a``b`, `t`.`c` FROM `db`.`t`'],
    ['SELECT * FROM t WHERE name = "alice"', 'SELECT * FROM t WHERE name = ?'],
    ['SELECT "say ""hi"""', 'SELECT ?'],
    ['SELECT "a\\"b" , 1', 'SELECT ? , ?'],
    ["SELECT 'it\\'s', 'a''b', 'c\\\\'", 'SELECT ?, ?, ?'],
    ["SELECT 'secret\\' -- still the string', x", 'SELECT ?, x'],
    ["SELECT a # a comment with 'secret'\nFROM t", 'SELECT a FROM t'],
    ["SELECT a -- comment 'secret'\nFROM t", 'SELECT a FROM t'],
    ['SELECT /* outer /* not nested */ a FROM t', 'SELECT a FROM t'],
    ["SELECT /*! STRAIGHT_JOIN 'secret' */ a FROM t", 'SELECT a FROM t'],
    ['SELECT /*+ MAX_EXECUTION_TIME(1000) */ a FROM t', 'SELECT a FROM t'],
    ["SELECT 0x1F, X'1F', x'ab', b'0101', N'nchar'", 'SELECT ?, ?, ?, ?, ?'],
    ['SELECT _utf8mb4\'secret\', _latin1 "secret" COLLATE latin1_bin', 'SELECT ?, ? COLLATE latin1_bin'],
    ['SELECT * FROM t WHERE id = ? AND b IN (?, ?)', 'SELECT * FROM t WHERE id = ? AND b IN (?)'],
    ['SELECT a$b, $c FROM t$1', 'SELECT a$b, $c FROM t$1'],
    ['SELECT $$not a dollar quote$$', 'SELECT $$not a dollar quote$$'],
    ['SELECT @v := 1, @@session.sql_mode', 'SELECT @v := ?, @@session.sql_mode'],
    ["SELECT 'unterminated \\' secret", 'SELECT ?'],
    ['SELECT "unterminated', 'SELECT ?'],
    ['SELECT `unterminated', 'SELECT `unterminated'],
  ];

  it.each(MYSQL_SANITIZED)('sanitizes %j', (input, expected) => {
    expect(sanitizeSql(input, DEFAULT_MAX_QUERY_TEXT_LENGTH, 'mysql')).toBe(expected);
    expect(analyzeSql(input, DEFAULT_MAX_QUERY_TEXT_LENGTH, 'mysql').text).toBe(expected);
  });

  it('summarizes backquoted names without the quotes they do not need', () => {
    expect(summarizeSql('SELECT `id` FROM `test`.`User` WHERE `email` = ?', 'mysql').summary).toBe('SELECT test.User');
    expect(summarizeSql('SELECT 1 FROM `order items`', 'mysql').summary).toBe('SELECT `order items`');
    expect(summarizeSql('INSERT INTO `t` (`a`) VALUES ("x") ON DUPLICATE KEY UPDATE `a` = VALUES(`a`)', 'mysql').summary).toBe('INSERT t');
    expect(summarizeSql('# leading\nUPDATE t SET a = "x"', 'mysql').summary).toBe('UPDATE t');
  });

  it('names the procedure a CALL runs', () => {
    expect(summarizeSql('CALL `shop`.`close_month`(?)', 'mysql')).toEqual({
      summary: 'CALL shop.close_month',
      operation: 'CALL',
      collection: undefined,
      procedure: 'shop.close_month',
    });
  });

  it('leaves the postgresql reading unchanged by default', () => {
    expect(sanitizeSql('SELECT "col" FROM t # x')).toBe('SELECT "col" FROM t # x');
    expect(sanitizeSql("SELECT /* a /* b */ 'x' */ 1")).toBe('SELECT ?');
  });
});
