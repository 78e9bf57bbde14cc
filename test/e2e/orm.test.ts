import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, serverOf, settledTraceOf, startFrameworkApp, stopFrameworkApp, type FrameworkApp } from '../helpers/framework-app';
import { send } from '../helpers/http-client';
import type { ReceivedSpan } from '../helpers/otlp-receiver';
import { requireMariadb, requirePostgres } from '../helpers/servers';
import { CLIENT, ERROR } from '../helpers/span-kinds';

/**
 * ORMs and query builders on the traced drivers, in a Fastify service as users build one (the
 * shape of Fastify's demo application): knex and Sequelize on mysql2 against MariaDB, pg against
 * PostgreSQL. Every query the ORM says it sent is one CLIENT span under the route's handler span,
 * and a failed query's values stay out of every span, the handler's included, although the ORM
 * copied them into the error it threw.
 */

const SECRET = 'orm-secret-41c9';

interface Answer {
  readonly result?: unknown;
  readonly queries: string[];
}

let running: FrameworkApp;

beforeAll(async () => {
  await requireMariadb();
  await requirePostgres();
  running = await startFrameworkApp({
    script: 'orm-app.cjs',
    preload: 'require',
    framework: 'orm',
    dir: { links: ['fastify', 'knex', 'sequelize', 'mysql2', 'pg'] },
  });
}, 60_000);

afterAll(() => stopFrameworkApp(running));

const databaseSpans = (trace: readonly ReceivedSpan[], scope: string) => trace.filter((span) => span.scope.name === scope && span.kind === CLIENT);

/** Calls the route and returns its answer and its trace, once the trace holds every query span. */
async function call(method: string, path: string, route: string): Promise<{ status: number; answer: Answer; trace: ReceivedSpan[] }> {
  const reply = await send(`${running.url}${path}`, { method });
  const answer = JSON.parse(reply.body) as Answer;
  const trace = await settledTraceOf(running, path, 2 + (answer.queries?.length ?? 1));
  expect(serverOf(trace).name).toBe(`${method} ${route}`);
  return { status: reply.status, answer, trace };
}

describe('knex on mysql2', () => {
  it('makes one span per query knex sent, under the handler, named and described from its SQL', async () => {
    const { answer, trace } = await call('GET', '/knex/users/1', '/knex/users/:id');
    expect(answer.result).toEqual({ id: 1, name: 'Ada' });
    const handler = named(trace, 'handler /knex/users/:id');
    const queries = databaseSpans(trace, 'tracelet/mysql2');
    expect(queries.map((span) => span.attributes['db.query.text'])).toEqual(answer.queries);
    const [select] = queries;
    expect(select!.parentSpanId).toBe(handler.spanId);
    expect(select!.attributes['db.system.name']).toBe('mariadb');
    // Operations as the query builder wrote them (knex writes lower case), names without the backquotes.
    expect(select!.name).toMatch(/^select tracelet_orm_users_\w+$/);
  });

  it('traces a transaction query by query, BEGIN to COMMIT, on the connection knex acquired', async () => {
    const { answer, trace } = await call('POST', '/knex/login', '/knex/login');
    expect(answer.queries).toHaveLength(4);
    const handler = named(trace, 'handler /knex/login');
    const queries = databaseSpans(trace, 'tracelet/mysql2');
    expect(queries.map((span) => span.attributes['db.query.text'])).toEqual(answer.queries);
    expect(queries.every((span) => span.parentSpanId === handler.spanId)).toBe(true);
    expect(queries.map((span) => span.name.split(' ')[0])).toEqual(['BEGIN', 'select', 'update', 'COMMIT']);
  });

  it('keeps the duplicate value knex copied into its error message out of the query and handler spans', async () => {
    const { status, trace } = await call('GET', '/knex/duplicate', '/knex/duplicate');
    expect(status).toBe(500);
    const [insert] = databaseSpans(trace, 'tracelet/mysql2');
    expect(insert!.attributes).toMatchObject({ 'db.response.status_code': '1062', 'error.type': '1062' });
    const handler = named(trace, 'handler /knex/duplicate');
    expect(handler.status).toEqual({ code: ERROR, message: 'server error 1062 ER_DUP_ENTRY' });
    expect(handler.events[0]!.attributes['exception.message']).toBe('server error 1062 ER_DUP_ENTRY');
    expect(JSON.stringify(trace)).not.toContain(SECRET);
  });
});

describe('Sequelize on mysql2', () => {
  it('makes one span per query Sequelize sent, its join summarized by the tables it reads', async () => {
    const { answer, trace } = await call('GET', '/sequelize/articles', '/sequelize/articles');
    expect(answer.result).toEqual(['Engines', 'Notes']);
    const handler = named(trace, 'handler /sequelize/articles');
    const queries = databaseSpans(trace, 'tracelet/mysql2');
    expect(queries).toHaveLength(answer.queries.length);
    expect(queries.every((span) => span.parentSpanId === handler.spanId)).toBe(true);
    expect(queries[0]!.name).toMatch(/^SELECT tracelet_orm_articles_\w+ tracelet_orm_users_\w+$/);
  });

  it('keeps the values out of the handler span when Sequelize wraps the driver error', async () => {
    const { status, trace } = await call('GET', '/sequelize/duplicate', '/sequelize/duplicate');
    expect(status).toBe(500);
    const handler = named(trace, 'handler /sequelize/duplicate');
    expect(handler.events[0]!.attributes).toMatchObject({
      'exception.type': '1062',
      'exception.message': 'server error 1062 ER_DUP_ENTRY',
    });
    expect(String(handler.events[0]!.attributes['exception.stacktrace'])).toMatch(
      /^SequelizeUniqueConstraintError: server error 1062 ER_DUP_ENTRY\n {4}at /,
    );
    expect(JSON.stringify(trace)).not.toContain(SECRET);
  });
});

describe('pg under a Fastify handler', () => {
  it('records the failed query on the handler span by its SQLSTATE, not by the message that quotes the value', async () => {
    const { status, trace } = await call('GET', '/pg/invalid', '/pg/invalid');
    expect(status).toBe(500);
    const handler = named(trace, 'handler /pg/invalid');
    expect(handler.status).toEqual({ code: ERROR, message: 'PostgreSQL error 22P02' });
    expect(handler.events[0]!.attributes['exception.message']).toBe('PostgreSQL error 22P02');
    expect(JSON.stringify(trace)).not.toContain(SECRET);
  });
});
