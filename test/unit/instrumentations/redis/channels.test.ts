import * as dc from 'node:diagnostics_channel';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { redisInstrumentation } from '../../../../instrumentations/redis';
import { queuedArgsPatch } from '../../../../instrumentations/redis/queued-args';
import { agentContext, setSpan, SpanKind, suppressTracing } from '../../../../src/instrumentation/api';
import { subscribeChannels } from '../../../../src/instrumentation/channels';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { installContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';

/**
 * The node-redis instrumentation fed @redis/client 5.12's channel messages by hand (through
 * TracingChannel#tracePromise, as node-redis publishes them), with a stand-in for its command queue:
 * what the end-to-end tests cannot provoke.
 */
const manager = installContextManager();
const { processor, tracer: parentTracer, provider } = testProvider();
const ctx = instrumentationContext(redisInstrumentation, provider.getTracer('tracelet/redis'));
const errors = ctx.errors;
const unsubscribe = subscribeChannels(redisInstrumentation, ctx, manager.storage);
afterAll(unsubscribe);
beforeEach(() => {
  processor.spans.length = 0;
  errors.length = 0;
});

/** node-redis's RedisCommandsQueue, as far as the patch wraps it. */
class FakeQueue {
  readonly received: unknown[][] = [];
  addCommand(args: unknown[]): Promise<unknown> {
    this.received.push(args);
    return Promise.resolve('OK');
  }
}
queuedArgsPatch.patch({ default: FakeQueue }, ctx, { module: '@redis/client', version: '5.12.1', viaImport: false });
const queue = new FakeQueue();

const command = dc.tracingChannel('node-redis:command');
const batch = dc.tracingChannel('node-redis:batch');
const connect = dc.tracingChannel('node-redis:connect');
const TARGET = { database: 2, clientId: 'client-1', serverAddress: 'cache', serverPort: 6380 };

/** Runs fn inside an active parent span; returns the parent's ids. */
async function withinParent(fn: () => Promise<unknown>): Promise<{ traceId: string; spanId: string }> {
  const parent = parentTracer.startSpan('parent');
  await agentContext.with(setSpan(agentContext.active(), parent), fn).catch(() => undefined);
  parent.end();
  return parent.spanContext();
}

const redisSpans = () => processor.spans.filter((span) => span.kind === SpanKind.CLIENT);

describe('node-redis instrumentation on @redis/client 5.12+ channels', () => {
  it("makes a command's span from its channel messages and its real arguments from the queue", async () => {
    const parent = await withinParent(() =>
      command.tracePromise(() => queue.addCommand(['HGETALL', 'user:1']), { ...TARGET, command: 'HGETALL', args: ['HGETALL', '?'] }),
    );
    const [span] = redisSpans();
    expect(span!.name).toBe('HGETALL');
    expect(span!.parentSpanId).toBe(parent.spanId);
    expect(span!.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'HGETALL',
      'db.query.text': 'HGETALL user:1',
      'db.namespace': '2',
      'server.address': 'cache',
      'server.port': 6380,
    });
    expect(errors).toEqual([]);
  });

  it("falls back to node-redis's redacted arguments when the queue passed none (bundled @redis/client)", async () => {
    await withinParent(() => command.tracePromise(async () => 'OK', { ...TARGET, command: 'HGETALL', args: ['HGETALL', '?'] }));
    expect(redisSpans()[0]!.attributes['db.query.text']).toBe('HGETALL ?');
  });

  it('ends the span in error for a rejected and for a synchronously thrown command', async () => {
    const reply = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    await withinParent(() => command.tracePromise(() => Promise.reject(reply), { ...TARGET, command: 'LPUSH', args: ['LPUSH', 'k', '?'] }));
    await withinParent(async () => {
      expect(() =>
        command.tracePromise(
          () => {
            throw new Error('The client is closed');
          },
          { ...TARGET, command: 'GET', args: ['GET', 'k'] },
        ),
      ).toThrow('The client is closed');
    });
    const [lpush, get] = redisSpans();
    expect(lpush!.status.code).toBe(2);
    expect(lpush!.attributes['error.type']).toBe('WRONGTYPE');
    expect(get!.status).toEqual({ code: 2, message: 'The client is closed' });
    expect(get!.attributes['error.type']).toBe('_OTHER');
  });

  it('gives a pipeline no span of its own, each of its commands one', async () => {
    await withinParent(() =>
      batch.tracePromise(
        () =>
          Promise.all([
            command.tracePromise(() => queue.addCommand(['SET', 'a', 'v']), {
              ...TARGET,
              command: 'SET',
              args: ['SET', 'a', '?'],
              batchMode: 'PIPELINE',
            }),
            command.tracePromise(() => queue.addCommand(['GET', 'a']), { ...TARGET, command: 'GET', args: ['GET', 'a'], batchMode: 'PIPELINE' }),
          ]),
        { ...TARGET, batchMode: 'PIPELINE', batchSize: 2 },
      ),
    );
    expect(redisSpans().map((span) => span.attributes['db.query.text'])).toEqual(['SET a ?', 'GET a']);
  });

  it('makes a MULTI one span listing the commands the queue received, without MULTI and EXEC', async () => {
    await withinParent(() =>
      batch.tracePromise(
        async () => {
          const queued = [['MULTI'], ['SET', 'k', 'v'], ['INCR', 'n'], ['EXEC']].map((args) => queue.addCommand(args));
          await Promise.all(queued);
          return ['OK', 1];
        },
        { ...TARGET, batchMode: 'MULTI', batchSize: 2 },
      ),
    );
    const [multi] = redisSpans();
    expect(multi!.name).toBe('MULTI');
    expect(multi!.attributes).toMatchObject({ 'db.query.text': 'SET k ?; INCR n', 'db.operation.batch.size': 2 });
  });

  it('makes no span outside a trace or with tracing suppressed', async () => {
    await command.tracePromise(() => queue.addCommand(['GET', 'k']), { ...TARGET, command: 'GET', args: ['GET', 'k'] });
    await agentContext.with(suppressTracing(agentContext.active()), () =>
      command.tracePromise(() => queue.addCommand(['GET', 'k']), { ...TARGET, command: 'GET', args: ['GET', 'k'] }),
    );
    expect(redisSpans()).toEqual([]);
  });

  it('gives connect() a span with the peer it reached, and a reconnection (ready outside connect()) its own', async () => {
    const ready = dc.channel('node-redis:connection:ready');
    const parent = await withinParent(() =>
      connect.tracePromise(async () => ready.publish({ clientId: 'client-2', serverAddress: '10.0.0.7', serverPort: 6380, createTimeMs: 3 }), {
        clientId: 'client-2',
        serverAddress: 'cache',
        serverPort: 6380,
      }),
    );
    await withinParent(async () => ready.publish({ clientId: 'client-2', serverAddress: '10.0.0.8', serverPort: 6380, createTimeMs: 40 }));
    const [first, reconnection] = redisSpans();
    expect(first!.name).toBe('connect');
    expect(first!.parentSpanId).toBe(parent.spanId);
    expect(first!.attributes).toEqual({
      'db.system.name': 'redis',
      'server.address': 'cache',
      'server.port': 6380,
      'network.peer.address': '10.0.0.7',
      'network.peer.port': 6380,
    });
    expect(reconnection!.name).toBe('connect');
    expect(reconnection!.attributes).toMatchObject({ 'server.address': 'cache', 'network.peer.address': '10.0.0.8' });
    expect(reconnection!.endTime - reconnection!.startTime).toBeGreaterThanOrEqual(39);

    // Commands of that client carry the peer from then on; closing the client forgets it.
    await withinParent(() => command.tracePromise(async () => 'OK', { ...TARGET, clientId: 'client-2', command: 'PING', args: ['PING'] }));
    expect(redisSpans()[2]!.attributes['network.peer.address']).toBe('10.0.0.8');
    dc.channel('node-redis:connection:closed').publish({ clientId: 'client-2', reason: 'application_close', wasConnected: true });
    await withinParent(() => command.tracePromise(async () => 'OK', { ...TARGET, clientId: 'client-2', command: 'PING', args: ['PING'] }));
    expect(redisSpans()[3]!.attributes['network.peer.address']).toBeUndefined();
  });
});
