// Captures the SQL that TypeORM, Sequelize and knex send, run against the PostgreSQL and MariaDB
// servers of a development machine, into test/unit/instrumentations/shared/orm-sql/<orm>-<db>.json:
// the statements the SQL summary tests read. Each ORM runs the same small blog model (users,
// articles with an author, tags, comments): schema sync, inserts, finds with relations,
// pagination, updates, upserts, deletes, transactions, counts and a raw query. Literal values
// are the planted SECRET, which the tests check never reaches a sanitized text or a summary.
//
//   node scripts/capture-orm-sql.mjs
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const OUT = new URL('../test/unit/instrumentations/shared/orm-sql/', import.meta.url).pathname;
export const SECRET = 'secret-title-42';
const SERVERS = {
  postgresql: { type: 'postgres', host: '127.0.0.1', port: 5432, username: 'postgres', password: '', database: 'test' },
  mariadb: { type: 'mariadb', host: '127.0.0.1', port: 3306, username: 'root', password: '', database: 'test' },
};

/** Statements in the order first sent, each once. */
class Recorder {
  texts = [];
  add(text) {
    const trimmed = String(text).trim();
    if (trimmed !== '' && !this.texts.includes(trimmed)) this.texts.push(trimmed);
  }
}

async function captureTypeorm(db) {
  require('reflect-metadata');
  const { DataSource, EntitySchema } = require('typeorm');
  const User = new EntitySchema({
    name: 'User',
    tableName: 'ormcap_user',
    columns: { id: { type: Number, primary: true, generated: true }, email: { type: String, unique: true }, name: { type: String } },
    relations: { articles: { type: 'one-to-many', target: 'Article', inverseSide: 'author' } },
  });
  const Tag = new EntitySchema({
    name: 'Tag',
    tableName: 'ormcap_tag',
    columns: { id: { type: Number, primary: true, generated: true }, name: { type: String, unique: true } },
  });
  const Article = new EntitySchema({
    name: 'Article',
    tableName: 'ormcap_article',
    columns: { id: { type: Number, primary: true, generated: true }, title: { type: String } },
    relations: {
      author: { type: 'many-to-one', target: 'User', inverseSide: 'articles', eager: false },
      tags: { type: 'many-to-many', target: 'Tag', joinTable: { name: 'ormcap_article_tags' } },
    },
  });
  const recorder = new Recorder();
  const logger = {
    logQuery: (query) => recorder.add(query),
    logQueryError() {},
    logQuerySlow() {},
    logSchemaBuild() {},
    logMigration() {},
    log() {},
  };
  const source = new DataSource({ ...SERVERS[db], entities: [User, Tag, Article], synchronize: false, logging: true, logger });
  await source.initialize();
  try {
    await source.synchronize(true);
    const users = source.getRepository('User');
    const articles = source.getRepository('Article');
    const tags = source.getRepository('Tag');
    const author = await users.save({ email: `${SECRET}@example.com`, name: SECRET });
    const tag = await tags.save({ name: SECRET });
    await articles.save({ title: SECRET, author, tags: [tag] });
    await articles.save({ title: `${SECRET}-2`, author });
    await articles.find({ where: { title: SECRET }, relations: { author: true, tags: true } });
    await articles.find({ relations: { author: true }, skip: 0, take: 1, order: { id: 'ASC' } });
    await articles.findOne({ where: { id: 1 } });
    await articles.count({ where: { author: { id: author.id } } });
    await users.update({ id: author.id }, { name: `${SECRET}-renamed` });
    await tags.upsert({ name: SECRET }, ['name']);
    await source
      .createQueryBuilder()
      .select('a.id')
      .from('Article', 'a')
      .where('a.title IN (:...titles)', { titles: [SECRET] })
      .getRawMany();
    await source
      .createQueryBuilder('Article', 'a')
      .leftJoinAndSelect('a.author', 'u')
      .where('u.email LIKE :email', { email: `%${SECRET}%` })
      .getMany();
    await source.transaction(async (manager) => {
      const user = await manager.getRepository('User').findOne({ where: { id: author.id }, lock: { mode: 'pessimistic_write' } });
      await manager.getRepository('User').save({ ...user, name: SECRET });
    });
    await articles.delete({ title: `${SECRET}-2` });
    await source.query(`SELECT COUNT(*) AS n FROM ormcap_article WHERE title <> '${SECRET}'`);
  } finally {
    for (const table of ['ormcap_article_tags', 'ormcap_article', 'ormcap_tag', 'ormcap_user'])
      await source.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await source.destroy();
  }
  return recorder.texts;
}

async function captureSequelize(db) {
  const { Sequelize, DataTypes, Op } = require('sequelize');
  const recorder = new Recorder();
  const server = SERVERS[db];
  const sequelize = new Sequelize(server.database, server.username, server.password, {
    host: server.host,
    port: server.port,
    dialect: db === 'postgresql' ? 'postgres' : 'mysql',
    logging: (line) => recorder.add(line.replace(/^Executing \([^)]*\): /, '')),
  });
  const User = sequelize.define('User', { email: { type: DataTypes.STRING, unique: true }, name: DataTypes.STRING }, { tableName: 'ormcap_user' });
  const Article = sequelize.define('Article', { title: DataTypes.STRING }, { tableName: 'ormcap_article' });
  const Tag = sequelize.define('Tag', { name: { type: DataTypes.STRING, unique: true } }, { tableName: 'ormcap_tag' });
  Article.belongsTo(User, { as: 'author' });
  Article.belongsToMany(Tag, { through: 'ormcap_article_tags' });
  try {
    await sequelize.sync({ force: true });
    const author = await User.create({ email: `${SECRET}@example.com`, name: SECRET });
    const article = await Article.create({ title: SECRET, authorId: author.id });
    const tag = await Tag.create({ name: SECRET });
    await article.addTag(tag);
    await Article.findAll({ where: { title: SECRET }, include: [{ model: User, as: 'author' }, Tag] });
    await Article.findAndCountAll({ include: [{ model: User, as: 'author' }], limit: 1, offset: 0, order: [['id', 'ASC']] });
    await Article.findOne({ where: { title: { [Op.like]: `%${SECRET}%` } } });
    await User.update({ name: `${SECRET}-renamed` }, { where: { id: author.id } });
    await Tag.upsert({ name: SECRET });
    await Tag.bulkCreate([{ name: `${SECRET}-a` }, { name: `${SECRET}-b` }], { ignoreDuplicates: true });
    await sequelize.transaction(async (transaction) => {
      await User.findByPk(author.id, { transaction, lock: transaction.LOCK.UPDATE });
      await User.increment('id', { by: 0, where: { id: author.id }, transaction });
    });
    await Article.destroy({ where: { title: `${SECRET}-gone` } });
    await Article.count({ where: { authorId: author.id } });
    await sequelize.query(`SELECT id FROM ormcap_user WHERE name = '${SECRET}'`);
  } finally {
    await sequelize.drop().catch(() => {});
    await sequelize.close();
  }
  return recorder.texts;
}

async function captureKnex(db) {
  const knex = require('knex');
  const server = SERVERS[db];
  const client =
    db === 'postgresql'
      ? knex({ client: 'pg', connection: { host: server.host, port: server.port, user: server.username, database: server.database } })
      : knex({ client: 'mysql2', connection: { host: server.host, port: server.port, user: server.username, database: server.database } });
  const recorder = new Recorder();
  client.on('query', (query) => recorder.add(query.sql));
  try {
    await client.schema.dropTableIfExists('ormcap_article');
    await client.schema.dropTableIfExists('ormcap_user');
    await client.schema.createTable('ormcap_user', (table) => {
      table.increments('id');
      table.string('email').unique();
      table.string('name');
    });
    await client.schema.createTable('ormcap_article', (table) => {
      table.increments('id');
      table.string('title');
      table.integer('author_id').unsigned().references('ormcap_user.id');
    });
    const [inserted] = await client('ormcap_user').insert({ email: `${SECRET}@example.com`, name: SECRET }, ['id']);
    const authorId = typeof inserted === 'object' ? inserted.id : inserted;
    await client('ormcap_article').insert([
      { title: SECRET, author_id: authorId },
      { title: `${SECRET}-2`, author_id: authorId },
    ]);
    await client('ormcap_article as a').join('ormcap_user as u', 'u.id', 'a.author_id').select('a.id', 'u.email').where('a.title', SECRET);
    await client('ormcap_article').whereIn('author_id', client('ormcap_user').select('id').where('name', SECRET)).limit(10).offset(0);
    await client('ormcap_user')
      .where({ id: authorId })
      .update({ name: `${SECRET}-renamed` });
    await client('ormcap_user')
      .insert({ email: `${SECRET}@example.com`, name: SECRET })
      .onConflict('email')
      .merge();
    await client
      .with('recent', (qb) => qb.select('id').from('ormcap_article').where('title', 'like', `%${SECRET}%`))
      .select('*')
      .from('recent');
    await client('ormcap_article').count('id as n').where('author_id', authorId).first();
    await client.transaction(async (trx) => {
      await trx('ormcap_user').where({ id: authorId }).forUpdate().first();
      await trx('ormcap_article')
        .where({ title: `${SECRET}-2` })
        .del();
    });
    await client.raw(`SELECT COUNT(*) FROM ormcap_article WHERE title <> '${SECRET}'`);
  } finally {
    await client.schema.dropTableIfExists('ormcap_article').catch(() => {});
    await client.schema.dropTableIfExists('ormcap_user').catch(() => {});
    await client.destroy();
  }
  return recorder.texts;
}

const CAPTURES = { typeorm: captureTypeorm, sequelize: captureSequelize, knex: captureKnex };

for (const [orm, capture] of Object.entries(CAPTURES)) {
  for (const db of Object.keys(SERVERS)) {
    const texts = await capture(db);
    writeFileSync(join(OUT, `${orm}-${db}.json`), `${JSON.stringify(texts, null, 2)}\n`);
    console.log(`${orm}-${db}: ${texts.length} statements`);
  }
}
