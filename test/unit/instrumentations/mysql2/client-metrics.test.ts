import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mysql2Instrumentation } from '../../../../instrumentations/mysql2';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { requireMariadb } from '../../../helpers/servers';
import { clientSpans, expectPlausibleSeconds, RecordingRecorder, switchableProvider, useRecorder } from '../shared/recording-metrics';

/**
 * db.client.operation.duration of mysql2 commands, on the real mysql2 against the local MariaDB,
 * patched as the agent patches it: one recording per command, sampled or not, whether its outcome
 * comes through a callback (the promise API too) or through the command's events.
 */
const require = createRequire(import.meta.url);

installContextManager();
afterAll(() => removeContextManager());
const { provider, processor, inRequest } = switchableProvider();
const ctx = instrumentationContext(mysql2Instrumentation, provider.getTracer('tracelet/mysql2'), {}, { throwErrors: true });
mysql2Instrumentation.patches![0]!.patch(require(join(dirname(require.resolve('mysql2')), 'lib/connection.js')), ctx, {
  module: 'mysql2',
  version: '3.25.0',
  viaImport: false,
});
const mysql = require('mysql2') as typeof import('mysql2');

interface Connection {
  query(sql: string, callback: (error: unknown, rows: unknown) => void): unknown;
  query(sql: string): { on(event: string, listener: (...args: unknown[]) => void): unknown };
  promise(): { query(sql: string): Promise<[unknown, unknown]> };
  end(callback?: () => void): void;
}

const recorder = new RecordingRecorder();
let connection: Connection;

beforeAll(async () => {
  await requireMariadb();
  connection = mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' }) as unknown as Connection;
  await connection.promise().query('SELECT 1');
});
afterAll(async () => {
  useRecorder(undefined);
  await new Promise<void>((resolve) => connection?.end(() => resolve()));
});
beforeEach(() => {
  recorder.clear();
  processor.spans.length = 0;
  useRecorder(recorder);
});

const SELECT = {
  system: 'mariadb',
  namespace: 'test',
  operationName: undefined,
  querySummary: 'SELECT',
  serverAddress: '127.0.0.1',
  serverPort: 3306,
  responseStatusCode: undefined,
  errorType: undefined,
};

describe.each([true, false])('a query, sampled: %s', (sampled) => {
  it('promise API: one recording with the span values, the rows unchanged', async () => {
    const start = performance.now();
    const [rows] = await inRequest(sampled, () => connection.promise().query('SELECT 1 AS n'));
    const elapsedMs = performance.now() - start;
    expect(rows).toEqual([{ n: 1 }]);
    expect(recorder.db).toEqual([{ ...SELECT, seconds: expect.any(Number) }]);
    expectPlausibleSeconds(recorder.db[0]!.seconds, elapsedMs);
    const spans = clientSpans(processor.spans);
    if (!sampled) return expect(spans).toEqual([]);
    expect(spans[0]!.attributes).toMatchObject({
      'db.system.name': 'mariadb',
      'db.namespace': 'test',
      'db.query.summary': 'SELECT',
      'server.address': '127.0.0.1',
      'server.port': 3306,
    });
  });

  it('events (no callback): recorded once the command ends', async () => {
    const rows = await inRequest(
      sampled,
      () =>
        new Promise<unknown[]>((resolve, reject) => {
          const seen: unknown[] = [];
          const query = connection.query('SELECT 2 AS n');
          query.on('result', (row) => seen.push(row));
          query.on('error', reject);
          query.on('end', () => resolve(seen));
        }),
    );
    expect(rows).toEqual([{ n: 2 }]);
    expect(recorder.db).toEqual([{ ...SELECT, seconds: expect.any(Number) }]);
  });

  it('a server error: its number as db.response.status_code and error.type, the error unchanged', async () => {
    const error = await inRequest(sampled, () => new Promise((resolve) => connection.query('SELEC 1', (caught) => resolve(caught))));
    expect(error).toMatchObject({ errno: 1064, code: 'ER_PARSE_ERROR' });
    expect(recorder.db).toEqual([{ ...SELECT, querySummary: undefined, seconds: expect.any(Number), responseStatusCode: '1064', errorType: '1064' }]);
    if (sampled) expect(clientSpans(processor.spans)[0]!.attributes).toMatchObject({ 'error.type': '1064', 'db.response.status_code': '1064' });
  });
});

describe('metrics off', () => {
  it('an unsampled query records nothing, its callback gets the same rows', async () => {
    useRecorder(undefined);
    const rows = await inRequest(false, () => new Promise((resolve) => connection.query('SELECT 1 AS n', (_error, result) => resolve(result))));
    expect(rows).toEqual([{ n: 1 }]);
    expect(recorder.db).toEqual([]);
  });
});
