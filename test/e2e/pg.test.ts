import { beforeAll, describe, expect, it } from 'vitest';
import { child, childrenOf, runScenarioApp, scenarioSpan, type ScenarioRun } from '../helpers/db-scenarios';
import type { Preload } from '../helpers/run-app';
import { CLIENT, ERROR, INTERNAL } from '../helpers/span-kinds';
import { requirePostgres } from '../helpers/servers';

/**
 * The pg instrumentation against the real PostgreSQL server (127.0.0.1:5432, database `test`):
 * pg-scenarios.cjs runs every form of query, pool and connection use, each inside a span of its
 * own, once without the agent and then under it as a CommonJS (--require) and an ES module
 * (--import) application; the spans are read back from OTLP.
 */

/** The values the fixture plants (its own constants). */
const { SECRET_PARAMETER, SECRET_LITERAL } = require('./fixtures/pg-scenarios.cjs') as { SECRET_PARAMETER: string; SECRET_LITERAL: string };
const PG_SCOPE = 'tracelet/pg';

type Run = ScenarioRun;

/** The spans each scenario's span must have as children, by name. */
function expectedChildren(table: string): Record<string, string[]> {
  return {
    'promise-text': ['SELECT'],
    'promise-values': [`INSERT ${table}`],
    'literal-insert': [`INSERT ${table}`],
    'literal-select': [`SELECT ${table}`],
    'callback-text': [`SELECT ${table}`],
    'callback-values': [`UPDATE ${table}`],
    'config-object': [`SELECT ${table}`],
    'config-callback': [`DELETE ${table}`],
    named: [`SELECT ${table}`, 'tracelet_by_id'],
    submittable: [`SELECT ${table}`],
    cursor: [`SELECT ${table}`],
    stream: ['SELECT'],
    'multi-statement': ['SELECT SELECT'],
    transaction: ['BEGIN', `INSERT ${table}`, 'COMMIT'],
    'syntax-error': ['postgresql'],
    'unique-violation': [`INSERT ${table}`],
    'invalid-parameter': ['SELECT'],
    'invalid-literal': ['SELECT'],
    'pool-promise': ['pg.pool.acquire', `SELECT ${table}`],
    'pool-callback': ['pg.pool.acquire', `SELECT ${table}`],
    'pool-connect-promise': ['pg.pool.acquire', 'SELECT'],
    'pool-connect-callback': ['pg.pool.acquire', 'SELECT'],
    'connect-promise': ['pg.connect'],
    'connect-callback': ['pg.connect'],
    'connect-refused': ['pg.connect'],
    // No query: the acquisition fails, with the connect below it.
    'pool-refused': ['pg.pool.acquire'],
    // The victim's connect and two queries, and the pg_terminate_backend() that kills it.
    terminated: ['pg.connect', 'SELECT', 'SELECT', 'SELECT'],
    'socket-destroyed': ['pg.connect', 'SELECT'],
    sqlcommenter: ['SELECT pg_stat_activity'],
  };
}

const SCENARIOS = Object.keys(expectedChildren(''));

function runScenarios(script: 'pg-app.cjs' | 'pg-app.mjs', preload: Preload, env: Record<string, string> = {}): Promise<Run> {
  const dir = { fixtures: ['pg-app.cjs', 'pg-app.mjs', 'pg-scenarios.cjs'], links: ['pg', 'pg-cursor', 'pg-query-stream', '@opentelemetry/api'] };
  return runScenarioApp({ dir, script, preload, service: 'pg-app', env });
}

const pgSpans = (run: Run) => run.spans.filter((span) => span.scope.name === PG_SCOPE);

let baseline: Run;

beforeAll(async () => {
  await requirePostgres();
  baseline = await runScenarios('pg-app.cjs', 'none');
}, 60_000);

describe('pg without the agent (the baseline)', () => {
  it('ran every scenario, and the application saw the planted values', () => {
    expect(Object.keys(baseline.results).sort()).toEqual(['untraced', ...SCENARIOS].sort());
    const errors = Object.fromEntries(Object.entries(baseline.results).map(([name, record]) => [name, record.outcome.error?.code]));
    expect(errors).toMatchObject({
      'syntax-error': '42601',
      'unique-violation': '23505',
      'invalid-parameter': '22P02',
      'invalid-literal': '22P02',
      'connect-refused': 'ECONNREFUSED',
      'pool-refused': 'ECONNREFUSED',
      terminated: '57P01',
    });
    expect(baseline.results['socket-destroyed']!.outcome.error!.message).toBe('Connection terminated unexpectedly');
    // The server itself quotes the values in what it sends back: the spans must not.
    expect(baseline.results['unique-violation']!.outcome.error!.detail).toContain(SECRET_PARAMETER);
    expect(baseline.results['invalid-parameter']!.outcome.error!.message).toContain(SECRET_PARAMETER);
    expect(baseline.results['invalid-literal']!.outcome.error!.message).toContain(SECRET_LITERAL);
  });
});

for (const [script, preload] of [
  ['pg-app.cjs', 'require'],
  ['pg-app.mjs', 'import'],
] as const) {
  describe(`pg under the agent: ${script} (--${preload})`, () => {
    let run: Run;
    beforeAll(async () => {
      run = await runScenarios(script, preload);
    }, 60_000);

    it('changes nothing the application sees: results, row counts, errors', () => {
      for (const name of Object.keys(baseline.results)) {
        expect(run.results[name]?.outcome, name).toEqual(baseline.results[name]!.outcome);
      }
      expect(run.results.terminated!.clientError).toEqual(baseline.results.terminated!.clientError);
      expect(run.results['socket-destroyed']!.clientError).toEqual(baseline.results['socket-destroyed']!.clientError);
    });

    it('gives every query, connect and acquisition its span, child of the span it was called in', () => {
      const expected = expectedChildren(run.table);
      for (const name of SCENARIOS) {
        const scenario = scenarioSpan(run, name);
        expect(scenario, name).toBeDefined();
        const children = childrenOf(run, scenario);
        expect(children.map((span) => span.name).sort(), name).toEqual([...expected[name]!].sort());
        for (const span of children) {
          expect(span.kind, `${name}: ${span.name}`).toBe(span.name === 'pg.pool.acquire' ? INTERNAL : CLIENT);
          expect(span.scope.name).toBe(PG_SCOPE);
          // Nothing below a query; below an acquisition, at most the connect it needed.
          const grandchildren = childrenOf(run, span);
          if (span.name === 'pg.pool.acquire') expect(grandchildren.every((g) => g.name === 'pg.connect' && g.kind === CLIENT)).toBe(true);
          else expect(grandchildren).toEqual([]);
        }
        const trace = run.spans.filter((span) => span.traceId === scenario.traceId);
        const connectsBelowAcquisitions = children.flatMap((span) => (span.name === 'pg.pool.acquire' ? childrenOf(run, span) : []));
        expect(trace, name).toHaveLength(1 + children.length + connectsBelowAcquisitions.length);
      }
      // The pool opened its connection for its first caller, inside that caller's acquisition.
      expect(childrenOf(run, child(run, 'pool-promise', 'pg.pool.acquire')).map((span) => span.name)).toEqual(['pg.connect']);
    });

    it('keeps the caller context in callbacks, rows and events, and after await; no span stays active', () => {
      for (const name of SCENARIOS) {
        const record = run.results[name]!;
        const seen = {
          activeAfter: record.activeAfter,
          activeAfterAwait: record.activeAfterAwait,
          activeInCallback: record.activeInCallback,
          activeInRow: record.activeInRow,
          activeInConnect: record.activeInConnect,
        };
        for (const [where, spanId] of Object.entries(seen)) {
          if (spanId !== undefined || where === 'activeAfter') expect(spanId, `${name}: ${where}`).toBe(record.spanId);
        }
      }
      // Each of these looked somewhere a callback, row or event delivered it.
      for (const name of [
        'callback-text',
        'callback-values',
        'config-callback',
        'submittable',
        'cursor',
        'pool-callback',
        'pool-connect-callback',
        'connect-callback',
      ]) {
        expect(run.results[name]!.activeInCallback, name).toBeDefined();
      }
      expect(run.results.stream!.activeInRow).toBe(run.results.stream!.spanId);
      expect(run.results.submittable!.activeInRow).toBe(run.results.submittable!.spanId);
    });

    it('describes queries by the stable database conventions, with sanitized text', () => {
      const { table } = run;
      const connection = { 'db.system.name': 'postgresql', 'db.namespace': 'test', 'server.address': '127.0.0.1', 'server.port': 5432 };
      expect(child(run, 'promise-values', `INSERT ${table}`).attributes).toEqual({
        ...connection,
        'db.query.text': `INSERT INTO ${table} (name, secret) VALUES ($1, $2) RETURNING id`,
        'db.query.summary': `INSERT ${table}`,
      });
      expect(child(run, 'promise-values', `INSERT ${table}`).attributeTypes['server.port']).toBe('intValue');
      expect(child(run, 'literal-insert', `INSERT ${table}`).attributes['db.query.text']).toBe(
        `INSERT INTO ${table} (name, secret) VALUES (?, ?), (?, NULL)`,
      );
      expect(child(run, 'literal-select', `SELECT ${table}`).attributes['db.query.text']).toBe(
        `SELECT name FROM ${table} WHERE secret = ? OR id IN (?) ORDER BY id`,
      );
      expect(child(run, 'config-object', `SELECT ${table}`).attributes['db.query.text']).toBe(`SELECT id, name FROM ${table} WHERE name = $1`);
      expect(child(run, 'cursor', `SELECT ${table}`).attributes['db.query.text']).toBe(
        `SELECT id FROM ${table} WHERE secret IS DISTINCT FROM $1 ORDER BY id`,
      );
      expect(child(run, 'stream', 'SELECT').attributes['db.query.text']).toBe('SELECT n FROM generate_series(?, $1::int) AS n');
      expect(child(run, 'multi-statement', 'SELECT SELECT').attributes['db.query.text']).toBe('SELECT ? AS a; SELECT ? AS b');
      // A prepared statement executed by its name alone is named by it, and has no text.
      expect(child(run, 'named', 'tracelet_by_id').attributes).toEqual({ ...connection, 'db.query.summary': 'tracelet_by_id' });
      expect(child(run, 'syntax-error', 'postgresql').attributes['db.query.text']).toBe('SELEC ?');
      expect(child(run, 'syntax-error', 'postgresql').attributes['db.query.summary']).toBeUndefined();
      // All but the spans of the scenarios that connect to port 1 (and acquire nothing).
      const unreachable = new Set([run.results['connect-refused']!.traceId, run.results['pool-refused']!.traceId]);
      for (const span of pgSpans(run)) {
        // The PostgreSQL conventions: not taken from the query text.
        expect(span.attributes['db.operation.name']).toBeUndefined();
        expect(span.attributes['db.collection.name']).toBeUndefined();
        if (!unreachable.has(span.traceId)) expect(span.attributes).toMatchObject(connection);
      }
    });

    it('ends failed queries in error with the SQLSTATE, and never exports what the server said', () => {
      const cases: Array<[string, string, string]> = [
        ['syntax-error', 'postgresql', '42601'],
        ['unique-violation', `INSERT ${run.table}`, '23505'],
        ['invalid-parameter', 'SELECT', '22P02'],
        ['invalid-literal', 'SELECT', '22P02'],
      ];
      for (const [scenario, name, state] of cases) {
        const span = child(run, scenario, name);
        expect(span.status).toEqual({ code: ERROR, message: `PostgreSQL error ${state}` });
        expect(span.attributes).toMatchObject({ 'db.response.status_code': state, 'error.type': state });
        expect(span.events.map((event) => event.name)).toEqual(['exception']);
        const exception = span.events[0]!.attributes;
        expect(exception).toMatchObject({ 'exception.type': state, 'exception.message': `PostgreSQL error ${state}` });
        expect(String(exception['exception.stacktrace'])).toMatch(new RegExp(`^DatabaseError: PostgreSQL error ${state}\\n    at `));
        expect(JSON.stringify(span)).not.toMatch(/syntax error|duplicate key|invalid input/);
      }
      const terminated = childrenOf(run, scenarioSpan(run, 'terminated')).find((span) => span.status.code === ERROR)!;
      expect(terminated.attributes).toMatchObject({
        'db.query.text': 'SELECT pg_sleep(?)',
        'db.response.status_code': '57P01',
        'error.type': '57P01',
      });
      // Errors of the client or the network are recorded as they are.
      const destroyed = child(run, 'socket-destroyed', 'SELECT');
      expect(destroyed.status).toEqual({ code: ERROR, message: 'Connection terminated unexpectedly' });
      expect(destroyed.attributes['error.type']).toBe('Error');
      expect(destroyed.attributes['db.response.status_code']).toBeUndefined();
      const refused = child(run, 'connect-refused', 'pg.connect');
      expect(refused.status).toEqual({ code: ERROR, message: 'connect ECONNREFUSED 127.0.0.1:1' });
      expect(refused.attributes).toMatchObject({ 'error.type': 'ECONNREFUSED', 'server.port': 1 });
      expect(refused.events[0]!.attributes['exception.type']).toBe('ECONNREFUSED');
      const acquisition = child(run, 'pool-refused', 'pg.pool.acquire');
      expect(acquisition.attributes).toEqual({ 'db.system.name': 'postgresql', 'error.type': 'ECONNREFUSED' });
      expect(childrenOf(run, acquisition).map((span) => [span.name, span.attributes['error.type']])).toEqual([['pg.connect', 'ECONNREFUSED']]);
      // Everything else succeeded.
      const failed = pgSpans(run).filter((span) => span.status.code === ERROR);
      expect(failed).toHaveLength(cases.length + 5);
      expect(
        pgSpans(run)
          .filter((span) => span.status.code !== ERROR)
          .every((span) => span.status.code === 0 && span.events.length === 0),
      ).toBe(true);
    });

    it('shows how long each pool caller waited for a connection, before its query', () => {
      for (const scenario of ['pool-promise', 'pool-callback', 'pool-connect-promise', 'pool-connect-callback']) {
        const children = childrenOf(run, scenarioSpan(run, scenario));
        const acquisition = children.find((span) => span.name === 'pg.pool.acquire')!;
        const query = children.find((span) => span.name !== 'pg.pool.acquire')!;
        expect(acquisition.attributes).toEqual({
          'db.system.name': 'postgresql',
          'db.namespace': 'test',
          'server.address': '127.0.0.1',
          'server.port': 5432,
        });
        expect(BigInt(query.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(acquisition.endTimeUnixNano));
      }
    });

    it('makes no span for queries and connections outside any trace (the default)', () => {
      const scenarioTraces = new Set(SCENARIOS.map((name) => run.results[name]!.traceId));
      expect(pgSpans(run).filter((span) => !scenarioTraces.has(span.traceId))).toEqual([]);
    });

    it('exports no planted value, from parameters or from literals in the SQL text', () => {
      expect(run.exported).toContain(`INSERT ${run.table}`);
      expect(run.exported).not.toContain(SECRET_PARAMETER);
      expect(run.exported).not.toContain(SECRET_LITERAL);
    });
  });
}

describe('pg with OTEL_INSTRUMENTATION_PG_SQLCOMMENTER=true and OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN=false', () => {
  // With the scenarios that write the rows the others read, so that outcomes compare with the baseline's.
  const scenarios = ['promise-values', 'literal-insert', 'callback-values', 'config-object', 'named', 'cursor', 'multi-statement', 'sqlcommenter'];
  let run: Run;
  beforeAll(async () => {
    run = await runScenarios('pg-app.cjs', 'import', {
      OTEL_INSTRUMENTATION_PG_SQLCOMMENTER: 'true',
      OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN: 'false',
      PG_SCENARIOS: scenarios.join(','),
    });
  }, 60_000);

  it('sends the query span traceparent in a comment the server sees, not in db.query.text', () => {
    const span = child(run, 'sqlcommenter', 'SELECT pg_stat_activity');
    const seen = (run.results.sqlcommenter!.outcome.value as { rows: Array<{ query: string }> }).rows[0]!.query;
    // The span's own trace flags (OTLP keeps them in the low byte of `flags`): sampled, and random when its trace id is.
    const flags = (span.flags & 0xff).toString(16).padStart(2, '0');
    expect(span.flags & 1).toBe(1);
    expect(seen).toBe(`SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid() /*traceparent='00-${span.traceId}-${span.spanId}-${flags}'*/`);
    expect(span.attributes['db.query.text']).toBe('SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()');
  });

  it('leaves results unchanged, named statements and multi-statement texts included', () => {
    for (const name of scenarios.filter((scenario) => scenario !== 'sqlcommenter')) {
      expect(run.results[name]!.outcome, name).toEqual(baseline.results[name]!.outcome);
    }
  });

  it('makes root spans for queries and connections outside any trace', () => {
    const roots = pgSpans(run).filter((span) => span.parentSpanId === '');
    const names = roots.map((span) => span.name);
    expect(names).toContain(`CREATE TABLE ${run.table}`);
    expect(names).toContain(`DROP TABLE ${run.table}`);
    expect(names).toContain('pg.connect');
    expect(roots.find((span) => span.attributes['db.query.text'] === 'SELECT ? AS untraced')?.name).toBe('SELECT');
    // Root spans get the comment too: it names their own trace.
    expect(run.exported).not.toContain('traceparent=');
  });
});

describe('pg: db.namespace with the connection schema, db.stored_procedure.name', () => {
  let run: Run;
  let untraced: Run;
  const runSemconv = (preload: Preload) =>
    runScenarioApp({
      dir: { fixtures: ['sql-semconv.cjs'], links: ['pg', '@opentelemetry/api'] },
      script: 'sql-semconv.cjs',
      preload,
      service: 'pg-semconv',
      env: { SQL_SEMCONV_LIBRARY: 'pg' },
    });

  beforeAll(async () => {
    [run, untraced] = await Promise.all([runSemconv('require'), runSemconv('none')]);
  }, 60_000);

  it('leaves what the application gets unchanged', () => {
    expect(Object.keys(run.results).sort()).toEqual(['call', 'no-search-path', 'search-path']);
    for (const name of Object.keys(untraced.results)) expect(run.results[name]!.outcome, name).toEqual(untraced.results[name]!.outcome);
  });

  it('qualifies db.namespace with the first schema of the search_path the connection was opened with', () => {
    // The server itself says which schema the connection uses.
    expect(run.results['search-path']!.outcome.value).toEqual([{ schema: 'pg_catalog' }]);
    expect(child(run, 'search-path', 'SELECT').attributes['db.namespace']).toBe('test|pg_catalog');
    // Without one, the server's default applies, which is not known without asking: the database alone.
    expect(child(run, 'no-search-path', 'SELECT').attributes['db.namespace']).toBe('test');
  });

  it('names the procedure a CALL runs in db.stored_procedure.name', () => {
    const span = child(run, 'call', `CALL ${run.table}`);
    expect(span.kind).toBe(CLIENT);
    expect(span.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.stored_procedure.name': run.table,
      'db.query.summary': `CALL ${run.table}`,
      'db.query.text': `CALL ${run.table}($1)`,
    });
    expect(child(run, 'search-path', 'SELECT').attributes['db.stored_procedure.name']).toBeUndefined();
  });
});
