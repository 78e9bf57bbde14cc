import type { Context } from '@opentelemetry/api';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { patchConnect } from '../../../../instrumentations/pg/client-connect';
import { patchQuery } from '../../../../instrumentations/pg/client-query';
import { patchPool } from '../../../../instrumentations/pg/pool-connect';
import { agentContext, getSpan, ROOT_CONTEXT, setSpan, suppressTracing } from '../../../../src/instrumentation/api';
import { pgInstrumentation, type PgSettings } from '../../../../instrumentations/pg';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';
import { instrumentationContext, type TestInstrumentationContext } from '../../../helpers/instrumentation-context';

/**
 * The wrappers on stand-ins for pg's Client and pg-pool's Pool that follow their argument rules
 * and call back whenever the test says, from whatever context the test is in: for what the
 * end-to-end tests cannot provoke at will.
 */
installContextManager();
afterAll(() => removeContextManager());
const { tracer, processor } = testProvider();
const errors: unknown[] = [];

function pgContext(env: Record<string, string> = {}): TestInstrumentationContext<PgSettings> {
  return instrumentationContext(pgInstrumentation, tracer, env, { errors });
}

type Callback = (error: unknown, result?: unknown, release?: unknown) => void;

/** pg's Client.query argument rules: callback from the third argument, else a function second, else config.callback. */
class FakeClient {
  database: unknown = 'shop';
  host = 'db.example';
  port = 5433;
  readonly calls: unknown[][] = [];
  readonly pending: Callback[] = [];

  query(config?: unknown, values?: unknown, callback?: unknown): unknown {
    this.calls.push([config, values, callback]);
    if (config === null || config === undefined) throw new TypeError('Client was passed a null or undefined query');
    if (typeof (config as { submit?: unknown }).submit === 'function') return config;
    let done = (config as { callback?: unknown }).callback;
    if (typeof values === 'function') done = values;
    if (callback) done = callback;
    if (done !== undefined && typeof done !== 'function') throw new TypeError('callback is not a function');
    if (done !== undefined) {
      this.pending.push(done as Callback);
      return undefined;
    }
    return new Promise((resolve, reject) => this.pending.push((error, result) => (error ? reject(error) : resolve(result))));
  }

  connect(callback?: Callback): unknown {
    if (callback !== undefined) {
      this.pending.push(callback);
      return undefined;
    }
    return new Promise((resolve, reject) => this.pending.push((error) => (error ? reject(error) : resolve(this))));
  }
}

/** pg-pool's connect: every request waits in _pendingQueue until the test hands it a client. */
class FakePool {
  readonly _pendingQueue: Array<{ callback: Callback }> = [];
  readonly newClientContexts: Context[] = [];

  connect(callback?: Callback): unknown {
    if (callback !== undefined) {
      this._pendingQueue.push({ callback });
      return undefined;
    }
    return new Promise((resolve, reject) => this._pendingQueue.push({ callback: (error, client) => (error ? reject(error) : resolve(client)) }));
  }

  readonly opened: FakeClient[] = [];

  newClient(item: { callback: Callback }): void {
    this.newClientContexts.push(agentContext.active());
    const client = new FakeClient();
    this.opened.push(client);
    client.connect(() => item.callback(undefined, client, () => undefined));
  }
}

const unpatchedQuery = FakeClient.prototype.query;
const ctx = pgContext();
patchQuery(FakeClient.prototype as never, ctx);
patchConnect(FakeClient.prototype as never, ctx);
patchPool(FakePool.prototype as never, ctx);

class CommentingClient extends FakeClient {}
// An unpatched query of its own, for a second, differently configured patch.
CommentingClient.prototype.query = function (this: FakeClient, ...args: unknown[]) {
  return unpatchedQuery.apply(this, args as never);
};
patchQuery(CommentingClient.prototype as never, pgContext({ OTEL_INSTRUMENTATION_PG_SQLCOMMENTER: 'true' }));

beforeEach(() => {
  processor.spans.length = 0;
  errors.length = 0;
});

/** Runs fn inside a fresh parent span; returns that span's context. */
function inParent<T>(fn: () => T): { parent: Context; result: T } {
  const parent = setSpan(ROOT_CONTEXT, tracer.startSpan('parent'));
  return { parent, result: agentContext.with(parent, fn) };
}

/** A context in which pg calls back: another request's. */
const elsewhere = setSpan(ROOT_CONTEXT, tracer.startSpan('elsewhere'));
const activeSpan = () => getSpan(agentContext.active());
const queries = () => processor.spans.filter((span) => span.name !== 'parent' && span.name !== 'elsewhere');

describe('Client#query wrapper', () => {
  it('takes the callback where pg does, and calls it in the caller context after the span ended', () => {
    const client = new FakeClient();
    const seen: unknown[] = [];
    const values = () => seen.push('values-as-function');
    const { parent } = inParent(() => client.query('SELECT 1', values, () => seen.push(activeSpan(), queries().length)));
    // pg would use the third argument: that one is replaced, the second left as it is.
    expect(client.calls[0]![1]).toBe(values);
    agentContext.with(elsewhere, () => client.pending[0]!(null, { rows: [] }));
    expect(seen).toEqual([getSpan(parent), 1]);
    expect(queries()[0]!.parentSpanId).toBe(getSpan(parent)!.spanContext().spanId);
  });

  it('replaces config.callback on a copy, never on the caller’s object', () => {
    const client = new FakeClient();
    class Config {
      text = 'SELECT 2';
      callback = () => (seenIn = activeSpan());
    }
    let seenIn: unknown;
    const config = new Config();
    const original = config.callback;
    const { parent } = inParent(() => client.query(config));
    const sent = client.calls[0]![0] as Config;
    expect(sent).not.toBe(config);
    expect(sent).toBeInstanceOf(Config);
    expect(sent.text).toBe('SELECT 2');
    expect(config.callback).toBe(original);
    agentContext.with(elsewhere, () => sent.callback());
    expect(seenIn).toBe(getSpan(parent));
    expect(queries().map((span) => span.name)).toEqual(['SELECT']);
  });

  it('ends the span of the promise form when pg settles, and leaves no span active after await', async () => {
    const client = new FakeClient();
    const { parent, result } = inParent(() => client.query('SELECT * FROM users WHERE id = $1', [7]) as Promise<unknown>);
    expect(queries()).toEqual([]);
    agentContext.with(elsewhere, () => client.pending[0]!(null, 'rows'));
    await agentContext.with(parent, async () => {
      expect(await result).toBe('rows');
      expect(activeSpan()).toBe(getSpan(parent));
    });
    expect(queries()[0]!.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'shop',
      'server.address': 'db.example',
      'server.port': 5433,
      'db.query.text': 'SELECT * FROM users WHERE id = $1',
      'db.query.summary': 'SELECT users',
    });
  });

  it('lets pg throw for what it rejects, with the span ended in error', () => {
    const client = new FakeClient();
    inParent(() => {
      expect(() => client.query('SELECT 1', [], 'not a function')).toThrow(TypeError);
      expect(() => client.query(null)).toThrow(TypeError);
    });
    expect(queries().map((span) => [span.name, span.attributes['error.type']])).toEqual([['SELECT', 'TypeError']]);
  });

  it('gives a Submittable submitted twice one span', () => {
    const client = new FakeClient();
    const submittable = { text: 'SELECT 3', submit() {}, handleReadyForQuery() {}, handleError() {} };
    inParent(() => {
      client.query(submittable);
      client.query(submittable);
    });
    submittable.handleReadyForQuery();
    expect(queries().map((span) => span.name)).toEqual(['SELECT']);
  });

  it('makes no span outside a trace or with tracing suppressed, yet calls back in the caller context', () => {
    const client = new FakeClient();
    const seen: unknown[] = [];
    client.query('SELECT 4', () => seen.push(activeSpan()));
    agentContext.with(suppressTracing(ROOT_CONTEXT), () => client.query('SELECT 5', () => seen.push(activeSpan())));
    agentContext.with(elsewhere, () => client.pending.forEach((callback) => callback(null)));
    expect(seen).toEqual([undefined, undefined]);
    expect(queries()).toEqual([]);
  });

  it('reports a failure of its own and runs the query untouched', () => {
    const client = new FakeClient();
    Object.defineProperty(client, 'database', {
      get() {
        throw new Error('instrumentation bug');
      },
    });
    const callback = () => undefined;
    inParent(() => client.query('SELECT 6', callback));
    expect(errors).toHaveLength(1);
    expect(client.calls[0]![1]).toBe(callback);
  });

  it('adds the traceparent comment when asked, except to named statements, on a copy of the config', async () => {
    const client = new CommentingClient();
    const config = { text: 'SELECT 7', values: [] };
    const { result } = inParent(() => [client.query('SELECT 8;'), client.query(config), client.query({ name: 'by-name', text: 'SELECT 9' })]);
    client.pending.forEach((callback) => callback(null));
    await Promise.all(result);
    const [plain, object, named] = client.calls.map((call) => call[0]);
    const spans = queries();
    const first = spans.find((span) => span.attributes['db.query.text'] === 'SELECT ?;')!.spanContext();
    // The span's own flags: sampled, and random when the tracer says its trace ids are (W3C Level 2).
    const flags = first.traceFlags.toString(16).padStart(2, '0');
    expect(first.traceFlags & 1).toBe(1);
    expect(plain).toBe(`SELECT 8 /*traceparent='00-${first.traceId}-${first.spanId}-${flags}'*/;`);
    expect((object as { text: string }).text).toMatch(new RegExp(`^SELECT 7 /\\*traceparent='00-${first.traceId}-[0-9a-f]{16}-${flags}'\\*/$`));
    expect(config.text).toBe('SELECT 7');
    expect((named as { text: string }).text).toBe('SELECT 9');
    expect(spans.map((span) => span.attributes['db.query.text']).sort()).toEqual(['SELECT ?', 'SELECT ?', 'SELECT ?;']);
  });
});

describe('Client#connect wrapper', () => {
  it('makes a CLIENT span ended by the callback, which runs in the caller context', () => {
    const client = new FakeClient();
    let seenIn: unknown;
    const { parent } = inParent(() => client.connect(() => (seenIn = activeSpan())));
    agentContext.with(elsewhere, () => client.pending[0]!(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })));
    expect(seenIn).toBe(getSpan(parent));
    expect(queries().map((span) => [span.name, span.kind, span.attributes['error.type']])).toEqual([['pg.connect', 2, 'ECONNREFUSED']]);
  });
});

describe('Pool#connect wrapper', () => {
  it('hands a queued caller its client in its own context, from whichever context releases one', async () => {
    const pool = new FakePool();
    let seenIn: unknown;
    const a = inParent(() => pool.connect(() => (seenIn = activeSpan())));
    const b = inParent(() => pool.connect() as Promise<unknown>);
    const client = new FakeClient();
    agentContext.with(elsewhere, () => pool._pendingQueue.forEach((item) => item.callback(undefined, client, () => undefined)));
    await agentContext.with(b.parent, async () => {
      expect(await b.result).toBe(client);
      expect(activeSpan()).toBe(getSpan(b.parent));
    });
    expect(seenIn).toBe(getSpan(a.parent));
    const acquisitions = queries();
    expect(acquisitions.map((span) => [span.name, span.kind])).toEqual([
      ['pg.pool.acquire', 0],
      ['pg.pool.acquire', 0],
    ]);
    expect(acquisitions.map((span) => span.parentSpanId).sort()).toEqual(
      [getSpan(a.parent)!.spanContext().spanId, getSpan(b.parent)!.spanContext().spanId].sort(),
    );
    expect(acquisitions[0]!.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'shop',
      'server.address': 'db.example',
      'server.port': 5433,
    });
  });

  it('opens a connection for a queued caller in its acquisition, wherever the pool decides to', () => {
    const pool = new FakePool();
    let seenIn: unknown;
    const a = inParent(() => pool.connect(() => (seenIn = activeSpan())));
    // Another request's release made room: pg-pool opens a new client for the waiter from there,
    // and the new connection is ready later, in yet another context.
    agentContext.with(elsewhere, () => pool.newClient(pool._pendingQueue[0]!));
    agentContext.with(elsewhere, () => pool.opened[0]!.pending[0]!(null));
    const acquisition = processor.spans.find((span) => span.name === 'pg.pool.acquire')!;
    const connect = processor.spans.find((span) => span.name === 'pg.connect')!;
    expect(getSpan(pool.newClientContexts[0]!)!.spanContext().spanId).toBe(acquisition.spanContext().spanId);
    expect(acquisition.parentSpanId).toBe(getSpan(a.parent)!.spanContext().spanId);
    expect(connect.parentSpanId).toBe(acquisition.spanContext().spanId);
    expect(seenIn).toBe(getSpan(a.parent));
  });
});
