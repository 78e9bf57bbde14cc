import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeSql, DEFAULT_MAX_QUERY_TEXT_LENGTH, MAX_SUMMARY_LENGTH, type SqlDialect } from '../../../../instrumentations/shared/sql';

/**
 * Statements in the shape TypeORM, Prisma and Sequelize send them, written by hand (Prisma's
 * query engine is a native download these machines cannot run), then every statement TypeORM,
 * Sequelize and knex really sent to PostgreSQL and MariaDB, captured into orm-sql/ by
 * scripts/capture-orm-sql.mjs. A subquery in FROM is its own operation, as in the semantic
 * conventions' `SELECT SELECT orders customers`; quotes that only follow the ORM's habit of quoting
 * every identifier go, those a name needs stay (`SELECT "song list"`).
 */
const LITERAL = 'secret-title-42';

/** [dialect, text, summary] */
const STATEMENTS: ReadonlyArray<readonly [SqlDialect, string, string]> = [
  [
    'postgresql',
    'SELECT "Article"."id" AS "Article_id", "User"."id" AS "User_id" FROM "ormcap_article" "Article" LEFT JOIN "ormcap_user" "User" ON "User"."id"="Article"."authorId" WHERE "Article"."title" = $1',
    'SELECT ormcap_article ormcap_user',
  ],
  [
    'postgresql',
    'SELECT DISTINCT "distinctAlias"."Article_id" AS "ids_Article_id" FROM (SELECT "Article"."id" AS "Article_id" FROM "ormcap_article" "Article" LEFT JOIN "ormcap_user" "User" ON "User"."id"="Article"."authorId") "distinctAlias" ORDER BY "Article_id" ASC LIMIT 10',
    'SELECT SELECT ormcap_article ormcap_user',
  ],
  ['postgresql', `INSERT INTO "ormcap_article"("title", "authorId") VALUES ('${LITERAL}', DEFAULT) RETURNING "id"`, 'INSERT ormcap_article'],
  [
    'postgresql',
    `INSERT INTO "ormcap_user" ("email") VALUES ('${LITERAL}') ON CONFLICT ("email") DO UPDATE SET "email" = EXCLUDED."email"`,
    'INSERT ormcap_user',
  ],
  ['postgresql', 'SELECT "id" FROM "ormcap_user" WHERE "id" = $1 FOR UPDATE', 'SELECT ormcap_user'],
  ['postgresql', 'SAVEPOINT typeorm_1', 'SAVEPOINT'],
  ['postgresql', 'START TRANSACTION', 'START'],
  [
    'postgresql',
    'SELECT "public"."User"."id", "public"."User"."email" FROM "public"."User" WHERE ("public"."User"."email" = $1 AND 1=1) LIMIT $2 OFFSET $3',
    'SELECT public.User',
  ],
  [
    'postgresql',
    `SELECT * FROM "information_schema"."tables" WHERE "table_schema" = 'public' AND "table_name" = '${LITERAL}'`,
    'SELECT information_schema.tables',
  ],
  ['mysql', 'SELECT `test`.`User`.`id` FROM `test`.`User` WHERE `test`.`User`.`email` = ? LIMIT ? OFFSET ?', 'SELECT test.User'],
  [
    'mysql',
    `INSERT INTO \`ormcap_user\` (\`email\`) VALUES ("${LITERAL}") ON DUPLICATE KEY UPDATE \`email\` = VALUES(\`email\`)`,
    'INSERT ormcap_user',
  ],
  ['mysql', `REPLACE INTO \`ormcap_tag\` (\`name\`) VALUES ('${LITERAL}')`, 'REPLACE ormcap_tag'],
  ['mysql', `INSERT IGNORE INTO \`ormcap_tag\` (\`name\`) VALUES (_utf8mb4'${LITERAL}')`, 'INSERT ormcap_tag'],
  ['mysql', 'SET NAMES utf8mb4', 'SET'],
  ['mysql', 'SHOW FULL COLUMNS FROM `ormcap_user`', 'SHOW'],
  ['mysql', 'SELECT 1; SELECT 2', 'SELECT SELECT'],
];

describe('SQL written by ORMs', () => {
  it.each(STATEMENTS)('(%s) %s', (dialect, text, summary) => {
    const analysis = analyzeSql(text, DEFAULT_MAX_QUERY_TEXT_LENGTH, dialect);
    expect(analysis.summary).toBe(summary);
    expect(analysis.summary!.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
    expect(analysis.text).not.toContain(LITERAL);
    expect(analysis.text).not.toContain("'public'");
  });
});

/** The captured statements, by fixture file (`typeorm-mariadb.json`...), with the dialect they are read in. */
const CAPTURED = join(__dirname, 'orm-sql');
const FIXTURES = readdirSync(CAPTURED)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({
    file,
    dialect: (file.includes('mariadb') ? 'mysql' : 'postgresql') as SqlDialect,
    texts: JSON.parse(readFileSync(join(CAPTURED, file), 'utf8')) as string[],
  }));

const summaryOf = (file: string, starts: string): string | undefined => {
  const fixture = FIXTURES.find((candidate) => candidate.file === file)!;
  const text = fixture.texts.find((candidate) => candidate.startsWith(starts));
  expect(text, `${file}: a statement starting ${starts}`).toBeDefined();
  return analyzeSql(text!, DEFAULT_MAX_QUERY_TEXT_LENGTH, fixture.dialect).summary;
};

describe('SQL captured from TypeORM, Sequelize and knex on PostgreSQL and MariaDB', () => {
  it('has every ORM on both servers', () => {
    expect(FIXTURES.map((fixture) => fixture.file).sort()).toEqual(
      ['knex', 'sequelize', 'typeorm'].flatMap((orm) => [`${orm}-mariadb.json`, `${orm}-postgresql.json`]).sort(),
    );
    for (const fixture of FIXTURES) expect(fixture.texts.length, fixture.file).toBeGreaterThan(15);
  });

  it.each(FIXTURES)('$file: every statement is summarized, short, and free of values and quotes', ({ dialect, texts }) => {
    for (const text of texts) {
      const { summary, text: sanitized } = analyzeSql(text, DEFAULT_MAX_QUERY_TEXT_LENGTH, dialect);
      expect(summary, text).toBeDefined();
      expect(summary!.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
      // No value: the planted literal, a date, a number or a quoted string.
      expect(`${summary} ${sanitized}`, text).not.toContain(LITERAL);
      expect(sanitized, text).not.toMatch(/'|\d{4}-\d\d-\d\d/);
      expect(summary, text).not.toMatch(/[?'"`]|\b\d+\b/);
    }
  });

  it('reads like its operations and tables, whichever ORM and server', () => {
    const join = 'SELECT ormcap_article ormcap_user';
    expect(
      summaryOf(
        'typeorm-postgresql.json',
        'SELECT "Article"."id" AS "Article_id", "Article"."title" AS "Article_title", "Article"."authorId" AS "Article_authorId", "Article__Article_author"',
      ),
    ).toBe(`${join} ormcap_article_tags ormcap_tag`);
    expect(summaryOf('typeorm-mariadb.json', 'SELECT DISTINCT `distinctAlias`')).toBe(`SELECT ${join}`);
    expect(summaryOf('typeorm-postgresql.json', 'SELECT DISTINCT "distinctAlias"')).toBe(`SELECT ${join}`);
    expect(summaryOf('typeorm-postgresql.json', 'INSERT INTO "ormcap_tag"("name") VALUES ($1) ON CONFLICT')).toBe('INSERT ormcap_tag');
    expect(summaryOf('typeorm-mariadb.json', 'INSERT INTO `ormcap_tag`(`id`, `name`) VALUES (DEFAULT, ?) ON DUPLICATE KEY UPDATE')).toBe(
      'INSERT ormcap_tag',
    );
    expect(summaryOf('sequelize-mariadb.json', 'SELECT `Article`.`id`, `Article`.`title`')).toBe(join);
    expect(summaryOf('sequelize-postgresql.json', 'SELECT count(*) AS "count" FROM "ormcap_article"')).toBe('SELECT ormcap_article');
    expect(summaryOf('sequelize-mariadb.json', 'INSERT IGNORE INTO `ormcap_tag`')).toBe('INSERT ormcap_tag');
    expect(summaryOf('knex-postgresql.json', 'select "a"."id", "u"."email" from "ormcap_article" as "a" inner join')).toBe(
      'select ormcap_article ormcap_user',
    );
    expect(summaryOf('knex-mariadb.json', 'with `recent` as')).toBe('select ormcap_article select recent');
    expect(summaryOf('knex-mariadb.json', 'select * from `ormcap_article` where `author_id` in (select')).toBe(
      'select ormcap_article select ormcap_user',
    );
  });

  it('gives the same summary and text whatever the values: one per statement shape', () => {
    for (const { file, dialect, texts } of FIXTURES) {
      for (const text of texts) {
        const other = text.replaceAll(LITERAL, 'another value, longer').replace(/\b\d{4}-\d\d-\d\d [\d:.]+/g, '1999-01-01 00:00:00');
        const [a, b] = [text, other].map((candidate) => analyzeSql(candidate, DEFAULT_MAX_QUERY_TEXT_LENGTH, dialect));
        expect(b, `${file}: ${text}`).toEqual(a);
      }
    }
  });
});
