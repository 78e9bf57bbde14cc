import { beforeAll, describe, expect, it } from 'vitest';
import { child, childrenOf, runScenarioApp, scenarioSpan, type ScenarioRun } from '../helpers/db-scenarios';
import { durationMs, onlyOne } from '../helpers/received-spans';
import type { Preload } from '../helpers/run-app';
import { requireMariadb } from '../helpers/servers';
import { CLIENT, ERROR, INTERNAL } from '../helpers/span-kinds';

/**
 * The mysql2 instrumentation against the real MariaDB server (127.0.0.1:3306, database `test`):
 * mysql2-scenarios.cjs runs every form of query, execute, prepared statement, stream, pool and
 * cluster use, each inside a span of its own, once without the agent and then under it as a
 * CommonJS (--require) and an ES module (--import) application; spans are read back from OTLP.
 */

const { SECRET_PARAMETER, SECRET_LITERAL, SECRET_QUOTED } = require('./fixtures/mysql2-scenarios.cjs') as Record<string, string>;
const SCOPE = 'tracelet/mysql2';
const ACQUIRE = 'mysql2.pool.acquire';

type Run = ScenarioRun;

/** The spans each scenario's span must have as children, by name. */
function expectedChildren(table: string): Record<string, string[]> {
  return {
    'promise-query': ['SELECT'],
    'promise-values': [`INSERT ${table}`],
    'literal-insert': [`INSERT ${table}`],
    'literal-select': [`SELECT ${table}`],
    'callback-query': [`SELECT ${table}`],
    'callback-values': [`UPDATE ${table}`],
    'options-object': [`SELECT ${table}`],
    'execute-promise': [`SELECT ${table}`],
    'execute-callback': [`SELECT ${table}`],
    prepared: [`SELECT ${table}`],
    stream: [`SELECT ${table}`],
    events: [`SELECT ${table}`],
    'multi-statement': ['SELECT SELECT'],
    transaction: ['START', `INSERT ${table}`, 'COMMIT'],
    'syntax-error': ['mariadb'],
    duplicate: [`INSERT ${table}`],
    'no-table': ['SELECT tracelet_missing'],
    'bad-parameter': ['SELECT'],
    'pool-promise': [ACQUIRE, `SELECT ${table}`],
    'pool-callback': [ACQUIRE, `SELECT ${table}`],
    'pool-execute': [ACQUIRE, `SELECT ${table}`],
    'pool-connection': [ACQUIRE, 'SELECT'],
    'pool-stream': [ACQUIRE, `SELECT ${table}`],
    'pool-queued': [ACQUIRE, ACQUIRE, 'SELECT'],
    'cluster-query': [ACQUIRE, `SELECT ${table}`],
    'cluster-connection': [ACQUIRE, 'SELECT'],
    'connect-refused': ['SELECT'],
  };
}

const SCENARIOS = Object.keys(expectedChildren(''));

/**
 * mysql2 3.25 (the current line, whose connection methods live on lib/base's BaseConnection) and
 * 3.9 (before that split: they live on lib/connection.js's Connection), side by side.
 */
const INSTALLS = { '3.25': 'mysql2', '3.9': 'mysql2-v3-9' } as const;
type Line = keyof typeof INSTALLS;

async function runScenarios(
  line: Line,
  script: 'mysql2-app.cjs' | 'mysql2-app.mjs',
  preload: Preload,
  env: Record<string, string> = {},
): Promise<Run> {
  const fixtures = ['mysql2-app.cjs', 'mysql2-app.mjs', 'mysql2-scenarios.cjs'];
  const install = INSTALLS[line];
  const dir =
    install === 'mysql2'
      ? { fixtures, links: ['mysql2', '@opentelemetry/api'] }
      : { fixtures, links: ['@opentelemetry/api'], aliases: { mysql2: install } };
  const run = await runScenarioApp({ dir, script, preload, service: 'mysql2-app', env });
  // The version the application really loaded.
  expect(/^MYSQL2 (\S+)$/m.exec(run.stdout)?.[1]).toMatch(new RegExp(`^${line.replace('.', '\\.')}\\.`));
  return run;
}

const mysqlSpans = (run: Run) => run.spans.filter((span) => span.scope.name === SCOPE);

const baselines = new Map<Line, Run>();

beforeAll(async () => {
  await requireMariadb();
  for (const line of Object.keys(INSTALLS) as Line[]) baselines.set(line, await runScenarios(line, 'mysql2-app.cjs', 'none'));
}, 60_000);

describe('mysql2 without the agent (the baseline)', () => {
  it('ran every scenario, and the server quoted the planted values in its errors', () => {
    const baseline = baselines.get('3.25')!;
    expect(Object.keys(baseline.results).sort()).toEqual(['untraced', ...SCENARIOS].sort());
    const codes = Object.fromEntries(Object.entries(baseline.results).map(([name, record]) => [name, record.outcome.error?.code]));
    expect(codes).toMatchObject({
      'syntax-error': 'ER_PARSE_ERROR',
      duplicate: 'ER_DUP_ENTRY',
      'no-table': 'ER_NO_SUCH_TABLE',
      'connect-refused': 'ECONNREFUSED',
    });
    expect(baseline.results.duplicate!.outcome.error!.message).toContain(SECRET_PARAMETER);
    expect(baseline.results['bad-parameter']!.outcome.error!.class).toBe('TypeError');
  });
});

for (const [line, script, preload] of [
  ['3.25', 'mysql2-app.cjs', 'require'],
  ['3.25', 'mysql2-app.mjs', 'import'],
  ['3.9', 'mysql2-app.cjs', 'require'],
  ['3.9', 'mysql2-app.mjs', 'import'],
] as const) {
  describe(`mysql2 ${line} under the agent: ${script} (--${preload})`, () => {
    let run: Run;
    let baseline: Run;
    beforeAll(async () => {
      run = await runScenarios(line, script, preload);
      baseline = baselines.get(line)!;
    }, 60_000);

    it('changes nothing the application sees: rows, results, errors', () => {
      for (const name of Object.keys(baseline.results)) {
        expect(run.results[name]?.outcome, name).toEqual(baseline.results[name]!.outcome);
      }
    });

    it('gives every query, execution and pool acquisition its span, child of the span it was called in', () => {
      const expected = expectedChildren(run.table);
      for (const name of SCENARIOS) {
        const scenario = scenarioSpan(run, name);
        expect(scenario, name).toBeDefined();
        const children = childrenOf(run, scenario);
        expect(children.map((span) => span.name).sort(), name).toEqual([...expected[name]!].sort());
        for (const span of children) {
          expect(span.kind, `${name}: ${span.name}`).toBe(span.name === ACQUIRE ? INTERNAL : CLIENT);
          expect(span.scope.name).toBe(SCOPE);
          expect(childrenOf(run, span), `${name}: ${span.name}`).toEqual([]);
        }
        // The whole trace: the scenario span and its children, nothing from other scenarios.
        expect(run.spans.filter((span) => span.traceId === scenario.traceId).length, name).toBe(1 + children.length);
      }
    });

    it('keeps the caller context in callbacks, rows and events, and after await; no span stays active', () => {
      for (const name of SCENARIOS) {
        const record = run.results[name]!;
        for (const where of ['activeAfter', 'activeAfterAwait', 'activeInCallback', 'activeInRow'] as const) {
          if (record[where] !== undefined || where === 'activeAfter') expect(record[where], `${name}: ${where}`).toBe(record.spanId);
        }
      }
      for (const name of ['callback-query', 'callback-values', 'options-object', 'execute-callback', 'prepared', 'no-table', 'pool-callback']) {
        expect(run.results[name]!.activeInCallback, name).toBeDefined();
      }
      for (const name of ['pool-execute', 'pool-connection', 'cluster-query', 'cluster-connection', 'multi-statement', 'connect-refused']) {
        expect(run.results[name]!.activeInCallback, name).toBeDefined();
      }
      for (const name of ['stream', 'events', 'pool-stream']) expect(run.results[name]!.activeInRow, name).toBe(run.results[name]!.spanId);
    });

    it('describes queries by the stable database conventions, MariaDB named as such, with sanitized text', () => {
      const { table } = run;
      const server = { 'db.system.name': 'mariadb', 'db.namespace': 'test', 'server.address': '127.0.0.1', 'server.port': 3306 };
      expect(child(run, 'promise-values', `INSERT ${table}`).attributes).toEqual({
        ...server,
        'db.query.text': `INSERT INTO ${table} (name, secret) VALUES (?, ?)`,
        'db.query.summary': `INSERT ${table}`,
      });
      expect(child(run, 'promise-values', `INSERT ${table}`).attributeTypes['server.port']).toBe('intValue');
      // MySQL's double-quoted strings are values too, and `#` comments are dropped.
      expect(child(run, 'literal-insert', `INSERT ${table}`).attributes['db.query.text']).toBe(
        `INSERT INTO ${table} (name, secret) VALUES (?, ?), (?, ?)`,
      );
      expect(child(run, 'literal-select', `SELECT ${table}`).attributes['db.query.text']).toBe(
        `SELECT name FROM \`${table}\` WHERE secret = ? OR id IN (?) ORDER BY id`,
      );
      expect(child(run, 'prepared', `SELECT ${table}`).attributes['db.query.text']).toBe(`SELECT name FROM ${table} WHERE id = ?`);
      expect(child(run, 'multi-statement', 'SELECT SELECT').attributes['db.query.text']).toBe('SELECT ? AS a; SELECT ? AS b');
      expect(child(run, 'syntax-error', 'mariadb').attributes['db.query.summary']).toBeUndefined();
      // The first query of a connection is sent before the server greets: it learns the name later.
      expect(child(run, 'connect-refused', 'SELECT').attributes).toMatchObject({ 'db.system.name': 'mysql', 'server.port': 1 });
      for (const span of mysqlSpans(run)) {
        if (span.traceId === run.results['connect-refused']!.traceId) continue;
        // As for PostgreSQL: not taken from the query text; the summary carries both.
        expect(span.attributes['db.operation.name']).toBeUndefined();
        expect(span.attributes['db.collection.name']).toBeUndefined();
        expect(span.attributes, span.name).toMatchObject(server);
      }
    });

    it('ends failed queries in error with the server error number, and never exports what the server said', () => {
      const cases: Array<[string, string, string, string]> = [
        ['syntax-error', 'mariadb', '1064', 'ER_PARSE_ERROR'],
        ['duplicate', `INSERT ${run.table}`, '1062', 'ER_DUP_ENTRY'],
        ['no-table', 'SELECT tracelet_missing', '1146', 'ER_NO_SUCH_TABLE'],
      ];
      for (const [scenario, name, errno, symbol] of cases) {
        const span = child(run, scenario, name);
        expect(span.status).toEqual({ code: ERROR, message: `server error ${errno} ${symbol}` });
        expect(span.attributes).toMatchObject({ 'db.response.status_code': errno, 'error.type': errno });
        expect(span.events.map((event) => event.name)).toEqual(['exception']);
        expect(span.events[0]!.attributes).toMatchObject({ 'exception.type': errno, 'exception.message': `server error ${errno} ${symbol}` });
        expect(String(span.events[0]!.attributes['exception.stacktrace'])).toMatch(new RegExp(`^Error: server error ${errno} ${symbol}\\n    at `));
        expect(JSON.stringify(span)).not.toMatch(/syntax|Duplicate entry|doesn't exist/);
      }
      // A client-side error is recorded as it is: mysql2's own message quotes nothing.
      const bad = child(run, 'bad-parameter', 'SELECT');
      expect(bad.status.code).toBe(ERROR);
      expect(bad.attributes['error.type']).toBe('TypeError');
      expect(bad.attributes['db.response.status_code']).toBeUndefined();
      const refused = child(run, 'connect-refused', 'SELECT');
      expect(refused.attributes['error.type']).toBe('ECONNREFUSED');
      const failed = mysqlSpans(run).filter((span) => span.status.code === ERROR);
      expect(failed.map((span) => span.name).sort()).toEqual(
        ['SELECT', 'SELECT', 'SELECT tracelet_missing', `INSERT ${run.table}`, 'mariadb'].sort(),
      );
    });

    it('shows the wait for a pool connection, and a queued caller resumes in its own trace', () => {
      for (const scenario of ['pool-promise', 'pool-callback', 'pool-execute', 'pool-connection', 'cluster-query', 'cluster-connection']) {
        const children = childrenOf(run, scenarioSpan(run, scenario));
        const acquisition = children.find((span) => span.name === ACQUIRE)!;
        const query = children.find((span) => span.name !== ACQUIRE)!;
        expect(acquisition.attributes, scenario).toEqual({
          'db.system.name': 'mariadb',
          'db.namespace': 'test',
          'server.address': '127.0.0.1',
          'server.port': 3306,
        });
        expect(BigInt(query.startTimeUnixNano), scenario).toBeGreaterThanOrEqual(BigInt(acquisition.endTimeUnixNano));
      }
      // The second acquisition waited for the release the other trace made 100 ms later.
      const queued = childrenOf(run, scenarioSpan(run, 'pool-queued')).filter((span) => span.name === ACQUIRE);
      const waited = queued.map(durationMs).sort((a, b) => a - b);
      expect(waited[1]).toBeGreaterThanOrEqual(90);
      const releaser = onlyOne(
        run.spans.filter((span) => span.name === 'releaser'),
        'the releasing span',
      );
      expect(releaser.traceId).not.toBe(run.results['pool-queued']!.traceId);
      expect(run.spans.filter((span) => span.traceId === releaser.traceId)).toHaveLength(1);
    });

    it('makes no span for queries outside any trace (the default)', () => {
      const scenarioTraces = new Set(SCENARIOS.map((name) => run.results[name]!.traceId));
      expect(mysqlSpans(run).filter((span) => !scenarioTraces.has(span.traceId))).toEqual([]);
    });

    it('exports no planted value, from parameters or from literals in the SQL text', () => {
      expect(run.exported).toContain(`INSERT ${run.table}`);
      for (const secret of [SECRET_PARAMETER, SECRET_LITERAL, SECRET_QUOTED]) expect(run.exported).not.toContain(secret);
    });
  });
}

describe('mysql2 with OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN=false', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runScenarios('3.25', 'mysql2-app.cjs', 'require', { OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN: 'false' });
  }, 60_000);

  it('makes root spans for queries outside any trace', () => {
    const roots = mysqlSpans(run).filter((span) => span.parentSpanId === '');
    const names = roots.map((span) => span.name);
    expect(names).toContain(`CREATE TABLE ${run.table}`);
    expect(names).toContain(`DROP TABLE ${run.table}`);
    expect(roots.find((span) => span.attributes['db.query.text'] === 'SELECT ? AS untraced')?.name).toBe('SELECT');
  });
});

describe('mysql2: db.stored_procedure.name', () => {
  let run: Run;
  let untraced: Run;
  const runSemconv = (preload: Preload) =>
    runScenarioApp({
      dir: { fixtures: ['sql-semconv.cjs'], links: ['mysql2', '@opentelemetry/api'] },
      script: 'sql-semconv.cjs',
      preload,
      service: 'mysql2-semconv',
      env: { SQL_SEMCONV_LIBRARY: 'mysql2' },
    });

  beforeAll(async () => {
    await requireMariadb();
    [run, untraced] = await Promise.all([runSemconv('require'), runSemconv('none')]);
  }, 60_000);

  it('leaves what the application gets unchanged', () => {
    expect(Object.keys(run.results).sort()).toEqual(['call', 'execute-call']);
    for (const name of Object.keys(untraced.results)) expect(run.results[name]!.outcome, name).toEqual(untraced.results[name]!.outcome);
  });

  it('names the procedure a CALL runs, through query and execute, backquoted or not', () => {
    for (const [scenario, text] of [
      ['call', `CALL \`${run.table}\`(?)`],
      ['execute-call', `CALL ${run.table}(?)`],
    ] as const) {
      const span = child(run, scenario, `CALL ${run.table}`);
      expect(span.kind, scenario).toBe(CLIENT);
      expect(span.attributes, scenario).toMatchObject({
        'db.system.name': 'mariadb',
        'db.stored_procedure.name': run.table,
        'db.query.summary': `CALL ${run.table}`,
        'db.query.text': text,
      });
    }
  });
});
