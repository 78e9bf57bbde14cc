import { describe, expect, it } from 'vitest';
import { analyzeSql, DEFAULT_MAX_QUERY_TEXT_LENGTH, MAX_SUMMARY_LENGTH, type SqlDialect } from '../../../../instrumentations/shared/sql';

/**
 * Statements in the shape TypeORM, Prisma and Sequelize send them, written by hand (the
 * captured ones are in orm-sql/). A subquery in FROM is its own operation, as in the semantic
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
