import * as dc from 'node:diagnostics_channel';
import { context, createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { AsyncLocalStorageContextManager } from '../../../src/context/async-local-storage-context-manager';
import { subscribeChannels } from '../../../src/instrumentation/channels';
import { FAILURES_BEFORE_SWITCH_OFF } from '../../../src/instrumentation/context';
import { instrumentationContext } from '../../helpers/instrumentation-context';

const manager = new AsyncLocalStorageContextManager();
context.setGlobalContextManager(manager);
const KEY = createContextKey('channel test');

function testContext() {
  const ctx = instrumentationContext({ name: 'test' }, trace.getTracer('t'));
  return { ctx, errors: ctx.errors };
}

describe('subscribeChannels', () => {
  it('delivers plain channel messages and unsubscribes', () => {
    const { ctx } = testContext();
    const seen: unknown[] = [];
    const unsubscribe = subscribeChannels(
      { name: 'plain', channels: [{ channel: 'test:plain', onMessage: (message) => seen.push(message) }] },
      ctx,
      manager.storage,
    );
    dc.channel('test:plain').publish({ n: 1 });
    unsubscribe();
    dc.channel('test:plain').publish({ n: 2 });
    expect(seen).toEqual([{ n: 1 }]);
  });

  it('contains a throwing subscriber: the publisher never sees the error, which is reported', () => {
    const { ctx, errors } = testContext();
    subscribeChannels(
      {
        name: 'bad',
        channels: [
          {
            channel: 'test:throws',
            onMessage: () => {
              throw new Error('subscriber bug');
            },
          },
        ],
      },
      ctx,
      manager.storage,
    );
    expect(() => dc.channel('test:throws').publish({})).not.toThrow();
    expect(errors).toHaveLength(1);
  });

  it('stops delivering to an instrumentation once repeated failures have switched it off', () => {
    const { ctx, errors } = testContext();
    let calls = 0;
    subscribeChannels(
      {
        name: 'failing',
        channels: [
          {
            channel: 'test:failing',
            onMessage: () => {
              calls++;
              throw new Error('subscriber bug');
            },
          },
        ],
      },
      ctx,
      manager.storage,
    );
    for (let i = 0; i < FAILURES_BEFORE_SWITCH_OFF + 5; i++) expect(() => dc.channel('test:failing').publish({})).not.toThrow();
    expect(ctx.enabled).toBe(false);
    expect(calls).toBe(FAILURES_BEFORE_SWITCH_OFF);
    expect(errors).toHaveLength(FAILURES_BEFORE_SWITCH_OFF);
  });

  it('runs a traced function in the context the subscription binds, and reports each event', async () => {
    const { ctx, errors } = testContext();
    const events: string[] = [];
    subscribeChannels(
      {
        name: 'tracing',
        tracingChannels: [
          {
            tracingChannel: 'test:op',
            start: () => events.push('start'),
            end: () => events.push('end'),
            asyncStart: () => events.push('asyncStart'),
            asyncEnd: () => events.push('asyncEnd'),
            error: () => events.push('error'),
            bindContext: (message: { id: unknown }) => ROOT_CONTEXT.setValue(KEY, message.id),
          },
        ],
      },
      ctx,
      manager.storage,
    );
    const channel = dc.tracingChannel('test:op');
    const inside = await channel.tracePromise(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return context.active().getValue(KEY);
      },
      { id: 'op-1' },
    );
    expect(inside).toBe('op-1');
    expect(context.active().getValue(KEY)).toBeUndefined();
    expect(events).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    await expect(
      channel.tracePromise(
        async () => {
          throw new Error('app error');
        },
        { id: 'op-2' },
      ),
    ).rejects.toThrow('app error');
    expect(events).toContain('error');
    expect(errors).toEqual([]);
  });

  it('keeps the caller context when bindContext fails', () => {
    const { ctx, errors } = testContext();
    subscribeChannels(
      {
        name: 'bind-fails',
        tracingChannels: [
          {
            tracingChannel: 'test:bindfail',
            bindContext: () => {
              throw new Error('bind bug');
            },
          },
        ],
      },
      ctx,
      manager.storage,
    );
    const caller = ROOT_CONTEXT.setValue(KEY, 'caller');
    const seen = context.with(caller, () => dc.tracingChannel('test:bindfail').traceSync(() => context.active().getValue(KEY), {}));
    expect(seen).toBe('caller');
    expect(errors).toHaveLength(1);
  });
});
