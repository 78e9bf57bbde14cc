import * as dc from 'node:diagnostics_channel';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ioredisInstrumentation } from '../../../../instrumentations/ioredis';
import { sendCommandOriginPatch, sendCommandSpanPatch } from '../../../../instrumentations/ioredis/send-command';
import { agentContext, setSpan, SpanKind } from '../../../../src/instrumentation/api';
import { subscribeChannels } from '../../../../src/instrumentation/channels';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { installContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';

/**
 * The ioredis instrumentation with stand-ins for ioredis's client: one publishing on the channels
 * the way ioredis 5.11+ does (a command only once written, the offline queue flushed later), one
 * publishing nothing, as before 5.11. What the end-to-end tests cannot provoke.
 */
const manager = installContextManager();
const { processor, tracer: parentTracer, provider } = testProvider();
const ctx = instrumentationContext(ioredisInstrumentation, provider.getTracer('tracelet/ioredis'));
const errors = ctx.errors;
const unsubscribe = subscribeChannels(ioredisInstrumentation, ctx, manager.storage);
afterAll(unsubscribe);
beforeEach(() => {
  processor.spans.length = 0;
  errors.length = 0;
});

const commandChannel = dc.tracingChannel('ioredis:command');
const batchChannel = dc.tracingChannel('ioredis:batch');

class FakeCommand {
  isTraced = false;
  readonly promise: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: unknown) => void;
  constructor(
    readonly name: string,
    readonly args: unknown[],
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** ioredis's Redis as far as sendCommand goes: writes (and publishes) when ready, else queues. */
class FakeRedis {
  status = 'ready';
  readonly options = { host: 'cache', port: 6380, db: 2 };
  readonly condition = { select: 2 };
  readonly stream = { remoteAddress: '10.0.0.9', remotePort: 6380 };
  readonly offlineQueue: FakeCommand[] = [];

  sendCommand(command: FakeCommand): Promise<unknown> {
    if (this.status !== 'ready' && this.status !== 'connect') {
      this.offlineQueue.push(command);
      return command.promise;
    }
    if (command.isTraced) return command.promise;
    command.isTraced = true;
    const message = { command: command.name, args: ['?'], database: 2, serverAddress: 'cache', serverPort: 6380 };
    const traced = commandChannel.tracePromise(() => command.promise, message);
    traced.catch(() => undefined);
    return traced;
  }

  flushOfflineQueue(): void {
    this.status = 'ready';
    for (const command of this.offlineQueue.splice(0)) void this.sendCommand(command);
  }
}

/** A copy of the class with sendCommand patched, as the loader does with built/Redis.js of ioredis 5.11+. */
class PatchedRedis extends FakeRedis {}
Object.defineProperty(PatchedRedis.prototype, 'sendCommand', { value: FakeRedis.prototype.sendCommand, writable: true, configurable: true });
sendCommandOriginPatch.patch({ default: PatchedRedis }, ctx, { module: 'ioredis', version: '5.11.1', viaImport: false });

function parentSpan() {
  const span = parentTracer.startSpan('parent');
  return { span, context: setSpan(agentContext.active(), span) };
}

const redisSpans = () => processor.spans.filter((span) => span.kind === SpanKind.CLIENT);

describe('ioredis instrumentation on ioredis 5.11+ channels', () => {
  it("makes a command's span with its real arguments and the client's peer", async () => {
    const client = new PatchedRedis();
    const parent = parentSpan();
    const command = new FakeCommand('hgetall', ['user:1']);
    const reply = agentContext.with(parent.context, () => client.sendCommand(command));
    command.resolve({});
    await reply;
    const [span] = redisSpans();
    expect(span!.name).toBe('HGETALL');
    expect(span!.parentSpanId).toBe(parent.span.spanContext().spanId);
    expect(span!.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'HGETALL',
      'db.query.text': 'HGETALL user:1',
      'db.namespace': '2',
      'server.address': 'cache',
      'server.port': 6380,
      'network.peer.address': '10.0.0.9',
      'network.peer.port': 6380,
    });
    expect(errors).toEqual([]);
  });

  it("parents a command from the offline queue to its caller, from the time it was sent, not to the flush's context", async () => {
    const client = new PatchedRedis();
    client.status = 'reconnecting';
    const caller = parentSpan();
    const command = new FakeCommand('get', ['k']);
    const reply = agentContext.with(caller.context, () => client.sendCommand(command));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const reconnection = parentSpan();
    agentContext.with(reconnection.context, () => client.flushOfflineQueue());
    command.resolve(null);
    await reply;
    const [span] = redisSpans();
    expect(span!.parentSpanId).toBe(caller.span.spanContext().spanId);
    expect(span!.endTime - span!.startTime).toBeGreaterThanOrEqual(19);
  });

  it("gives the connection's own setup commands no span", async () => {
    const client = new PatchedRedis();
    client.status = 'connect';
    const parent = parentSpan();
    const info = new FakeCommand('info', []);
    void agentContext.with(parent.context, () => client.sendCommand(info));
    info.resolve('# Server');
    await info.promise;
    expect(redisSpans()).toEqual([]);
  });

  it('makes a transaction one span listing its commands; EXEC answering nil is a WatchError', async () => {
    const client = new PatchedRedis();
    const parent = parentSpan();
    const commands = [new FakeCommand('multi', []), new FakeCommand('set', ['k', 'v']), new FakeCommand('exec', [])];
    const exec = () => {
      for (const command of commands) void client.sendCommand(command);
      for (const command of commands) command.resolve('OK');
      return Promise.resolve(null);
    };
    const traced = agentContext.with(parent.context, () =>
      batchChannel.tracePromise(exec, { batchMode: 'MULTI', batchSize: 1, database: 2, serverAddress: 'cache', serverPort: 6380 }),
    );
    await traced;
    await Promise.all(commands.map((command) => command.promise));
    const [multi] = redisSpans();
    expect(redisSpans()).toHaveLength(1);
    expect(multi!.name).toBe('MULTI SET');
    expect(multi!.attributes).toMatchObject({ 'db.query.text': 'SET k ?', 'error.type': 'WatchError' });
    expect(multi!.status.code).toBe(2);
  });

  it("falls back to ioredis's message when sendCommand is not patched (bundled ioredis)", async () => {
    const client = new FakeRedis();
    const parent = parentSpan();
    const command = new FakeCommand('hgetall', ['user:1']);
    const reply = agentContext.with(parent.context, () => client.sendCommand(command));
    command.reject(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'));
    await reply.catch(() => undefined);
    const [span] = redisSpans();
    expect(span!.attributes).toMatchObject({ 'db.query.text': 'HGETALL ?', 'error.type': 'WRONGTYPE', 'server.address': 'cache' });
    expect(span!.attributes['network.peer.address']).toBeUndefined();
  });
});

describe('ioredis before 5.11 (Redis#sendCommand patched)', () => {
  /** Outside any trace too: OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN=false. */
  const everywhere = instrumentationContext(ioredisInstrumentation, ctx.tracer, { OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN: 'false' }, { errors });

  class OldRedis {
    status = 'ready';
    readonly options = { host: 'cache', port: 6380, db: 0 };
    sendCommand(command: FakeCommand): Promise<unknown> {
      return command.promise;
    }
  }
  sendCommandSpanPatch.patch({ default: OldRedis }, everywhere, { module: 'ioredis', version: '5.10.1', viaImport: false });

  it('with OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN=false, traces a command outside any trace as a root span', async () => {
    const command = new FakeCommand('get', ['k']);
    const reply = new OldRedis().sendCommand(command);
    command.resolve('v');
    expect(await reply).toBe('v');
    const [span] = redisSpans();
    expect(span!.parentSpanId).toBeUndefined();
    expect(span!.attributes['db.query.text']).toBe('GET k');
  });

  it('gives a command sent again (offline queue, resend after a reconnection) one span, ended once, in error when rejected', async () => {
    const client = new OldRedis();
    const command = new FakeCommand('set', ['k', 'v']);
    void client.sendCommand(command);
    void client.sendCommand(command);
    command.reject(new Error('Connection is closed.'));
    command.reject(new Error('again'));
    await command.promise.catch(() => undefined);
    const spans = redisSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.status).toEqual({ code: 2, message: 'Connection is closed.' });
    expect(errors).toEqual([]);
  });
});
