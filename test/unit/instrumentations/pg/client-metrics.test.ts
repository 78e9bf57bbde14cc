import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pgInstrumentation } from '../../../../instrumentations/pg';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { requirePostgres } from '../../../helpers/servers';
import { promisesMadeBy } from '../shared/promise-count';
import { clientSpans, expectPlausibleSeconds, RecordingRecorder, switchableProvider, useRecorder } from '../shared/recording-metrics';

/**
 * db.client.operation.duration of pg queries, on the real pg against the local PostgreSQL,
 * patched as the agent patches it: one recording per query, sampled or not, with the values its
 * span has; nothing measured (and no promise more) while metrics are off.
 */
const require = createRequire(import.meta.url);

installContextManager();
afterAll(() => removeContextManager());
const { provider, processor, inRequest } = switchableProvider();
const ctx = instrumentationContext(pgInstrumentation, provider.getTracer('tracelet/pg'), {}, { throwErrors: true });
const ClientClass = require('pg/lib/client.js') as { prototype: { query: { __original: Function } } };
pgInstrumentation.patches![0]!.patch(ClientClass, ctx, { module: 'pg', version: '8.0.0', viaImport: false });
const pg = require('pg') as typeof import('pg');

const recorder = new RecordingRecorder();
let client: import('pg').Client;

beforeAll(async () => {
  await requirePostgres();
  client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await client.connect();
});
afterAll(async () => {
  useRecorder(undefined);
  await client?.end();
});
beforeEach(() => {
  recorder.clear();
  processor.spans.length = 0;
  useRecorder(recorder);
});

const SELECT = {
  system: 'postgresql',
  namespace: 'test',
  operationName: undefined,
  querySummary: 'SELECT',
  serverAddress: '127.0.0.1',
  serverPort: 5432,
};

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; elapsedMs: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, elapsedMs: performance.now() - start };
}

describe.each([true, false])('a query, sampled: %s', (sampled) => {
  it('promise form: one recording, the span values, the rows unchanged', async () => {
    const { value, elapsedMs } = await timed(() => inRequest(sampled, () => client.query('SELECT 1 AS n')));
    expect(value.rows).toEqual([{ n: 1 }]);
    expect(recorder.db).toEqual([{ ...SELECT, seconds: expect.any(Number), responseStatusCode: undefined, errorType: undefined }]);
    expectPlausibleSeconds(recorder.db[0]!.seconds, elapsedMs);
    const spans = clientSpans(processor.spans);
    if (!sampled) {
      expect(spans).toEqual([]);
      return;
    }
    expect(spans).toHaveLength(1);
    expect(spans[0]!.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': 'test',
      'db.query.summary': 'SELECT',
      'server.address': '127.0.0.1',
      'server.port': 5432,
    });
  });

  it('callback form: one recording, the callback called once with the result', async () => {
    const { value, elapsedMs } = await timed(() =>
      inRequest(
        sampled,
        () =>
          new Promise<{ rows: unknown[]; calls: number }>((resolve) => {
            let calls = 0;
            client.query('SELECT 2 AS n', (error, result) => {
              calls++;
              expect(error).toBeNull();
              setImmediate(() => resolve({ rows: result.rows, calls }));
            });
          }),
      ),
    );
    expect(value).toEqual({ rows: [{ n: 2 }], calls: 1 });
    expect(recorder.db).toEqual([{ ...SELECT, seconds: expect.any(Number), responseStatusCode: undefined, errorType: undefined }]);
    expectPlausibleSeconds(recorder.db[0]!.seconds, elapsedMs);
  });

  it('a syntax error: SQLSTATE 42601 as db.response.status_code and error.type, the error unchanged', async () => {
    const error = await inRequest(sampled, () => client.query('SELEC 1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: '42601', message: 'syntax error at or near "SELEC"' });
    expect(recorder.db).toEqual([
      { ...SELECT, querySummary: undefined, seconds: expect.any(Number), responseStatusCode: '42601', errorType: '42601' },
    ]);
    if (sampled) expect(clientSpans(processor.spans)[0]!.attributes).toMatchObject({ 'error.type': '42601', 'db.response.status_code': '42601' });
  });

  it('a Submittable (pg.Query): recorded once, though pg reports an error and then readiness', async () => {
    const rows = await inRequest(
      sampled,
      () =>
        new Promise<unknown[]>((resolve, reject) => {
          const query = new pg.Query('SELECT 3 AS n');
          const seen: unknown[] = [];
          query.on('row', (row: unknown) => seen.push(row));
          query.on('end', () => resolve(seen));
          query.on('error', reject);
          client.query(query);
        }),
    );
    expect(rows).toEqual([{ n: 3 }]);
    expect(recorder.db).toHaveLength(1);
    const failing = new pg.Query('SELEC 3');
    await inRequest(sampled, () => new Promise((resolve) => (failing.on('error', resolve), client.query(failing))));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(recorder.db).toHaveLength(2);
    expect(recorder.db[1]).toMatchObject({ errorType: '42601', responseStatusCode: '42601' });
  });
});

describe('metrics off', () => {
  it('an unsampled query records nothing and makes no promise more than pg itself', async () => {
    useRecorder(undefined);
    const direct = await inRequest(false, async () => {
      const made = promisesMadeBy(() => ClientClass.prototype.query.__original.call(client, 'SELECT 1 AS n') as Promise<{ rows: unknown[] }>);
      return { promises: made.promises, rows: (await made.result).rows };
    });
    const traced = await inRequest(false, async () => {
      const made = promisesMadeBy(() => client.query('SELECT 1 AS n'));
      return { promises: made.promises, rows: (await made.result).rows };
    });
    expect(traced).toEqual(direct);
    expect(recorder.db).toEqual([]);
  });

  it('with metrics on, the unsampled promise form costs exactly one promise more', async () => {
    const counts = await inRequest(false, async () => {
      const off = (useRecorder(undefined), promisesMadeBy(() => client.query('SELECT 1')));
      await off.result;
      const on = (useRecorder(recorder), promisesMadeBy(() => client.query('SELECT 1')));
      await on.result;
      return { off: off.promises, on: on.promises };
    });
    expect(counts.on).toBe(counts.off + 1);
    expect(recorder.db).toHaveLength(1);
  });
});
