import { EventEmitter } from 'node:events';
import { context, createContextKey, ROOT_CONTEXT as API_ROOT_CONTEXT } from '@opentelemetry/api';
import { ROOT_CONTEXT } from '../../../src/api/context';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsyncLocalStorageContextManager } from '../../../src/context/async-local-storage-context-manager';

const KEY = createContextKey('test key');
const manager = new AsyncLocalStorageContextManager();
// Application code builds contexts from its own copy of the API; the agent's root context is another object.
const ctxWith = (value: unknown) => API_ROOT_CONTEXT.setValue(KEY, value);
const current = () => context.active().getValue(KEY);

beforeAll(() => {
  expect(context.setGlobalContextManager(manager)).toBe(true);
});
afterAll(() => {
  context.disable();
});

describe('AsyncLocalStorageContextManager as the global context manager', () => {
  it('is ROOT_CONTEXT outside of any with()', () => {
    expect(context.active()).toBe(ROOT_CONTEXT);
  });

  it('activates a context inside with() and restores the previous one after', () => {
    const outer = ctxWith('outer');
    context.with(outer, () => {
      expect(context.active()).toBe(outer);
      context.with(ctxWith('inner'), () => expect(current()).toBe('inner'));
      expect(context.active()).toBe(outer);
    });
    expect(context.active()).toBe(ROOT_CONTEXT);
  });

  it('passes thisArg and arguments and returns the callback result', () => {
    const self = { n: 2 };
    const result = context.with(
      ctxWith('x'),
      function (this: typeof self, a: number, b: number) {
        return this.n * a + b + (current() === 'x' ? 100 : 0);
      },
      self,
      3,
      4,
    );
    expect(result).toBe(110);
  });

  it('restores the previous context when the callback throws', () => {
    expect(() =>
      context.with(ctxWith('boom'), () => {
        throw new Error('x');
      }),
    ).toThrow('x');
    expect(context.active()).toBe(ROOT_CONTEXT);
  });

  it('survives await, promise chains, timers, setImmediate, nextTick and queueMicrotask', async () => {
    const seen = await context.with(ctxWith('async'), async () => {
      const values: unknown[] = [];
      await new Promise((resolve) => setTimeout(resolve, 1));
      values.push(current());
      values.push(
        await Promise.resolve()
          .then(() => current())
          .then((v) => v),
      );
      values.push(await new Promise((resolve) => setImmediate(() => resolve(current()))));
      values.push(await new Promise((resolve) => process.nextTick(() => resolve(current()))));
      values.push(await new Promise((resolve) => queueMicrotask(() => resolve(current()))));
      values.push(
        await new Promise((resolve) => {
          const t = setInterval(() => {
            clearInterval(t);
            resolve(current());
          }, 1);
        }),
      );
      return values;
    });
    expect(seen).toEqual(['async', 'async', 'async', 'async', 'async', 'async']);
  });

  it('never leaks one concurrent request context into another', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        context.with(ctxWith(i), async () => {
          const observed: unknown[] = [];
          for (let step = 0; step < 5; step++) {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
            observed.push(current());
            await Promise.resolve();
            observed.push(current());
          }
          return { i, observed };
        }),
      ),
    );
    for (const { i, observed } of results) expect(observed.every((value) => value === i)).toBe(true);
    expect(context.active()).toBe(ROOT_CONTEXT);
  });

  it('apply() runs a function with its arguments array in a context, also from inside that same context', () => {
    const self = { n: 3 };
    function fn(this: typeof self, a: number, b: number) {
      return [this.n * a + b, current()];
    }
    const outer = ctxWith('outer');
    expect(manager.apply(outer, fn, self, [2, 1])).toEqual([7, 'outer']);
    manager.with(outer, () => {
      expect(manager.apply(outer, fn, self, [1, 1])).toEqual([4, 'outer']);
      expect(manager.apply(ctxWith('inner'), fn, self, [0, 5])).toEqual([5, 'inner']);
      expect(context.active()).toBe(outer);
      expect(() =>
        manager.apply(
          outer,
          () => {
            throw new Error('boom');
          },
          undefined,
          [],
        ),
      ).toThrow('boom');
      expect(context.active()).toBe(outer);
    });
    expect(context.active()).toBe(ROOT_CONTEXT);
  });

  it('binds a function to a context, keeping this, arguments, result and arity', () => {
    const bound = context.bind(ctxWith('bound'), function (this: { k: number }, a: number, b: number) {
      return [this.k, a, b, current()];
    });
    expect(bound.length).toBe(2);
    expect(context.with(ctxWith('other'), () => bound.call({ k: 1 }, 2, 3))).toEqual([1, 2, 3, 'bound']);
  });

  it('returns non-function, non-emitter targets unchanged', () => {
    const value = { a: 1 };
    expect(context.bind(ctxWith('x'), value)).toBe(value);
  });
});

describe('binding an EventEmitter', () => {
  it('runs listeners added after binding in the bound context', () => {
    const emitter = context.bind(ctxWith('emitter'), new EventEmitter());
    const seen: unknown[] = [];
    emitter.on('a', () => seen.push(['on', current()]));
    emitter.addListener('a', () => seen.push(['addListener', current()]));
    emitter.prependListener('a', () => seen.push(['prepend', current()]));
    context.with(ctxWith('emitter-caller'), () => emitter.emit('a'));
    expect(seen).toEqual([
      ['prepend', 'emitter'],
      ['on', 'emitter'],
      ['addListener', 'emitter'],
    ]);
  });

  it('removes listeners by the function the caller added (removeListener and off)', () => {
    const emitter = context.bind(ctxWith('e'), new EventEmitter());
    let calls = 0;
    const listener = () => calls++;
    emitter.on('x', listener);
    expect(emitter.listenerCount('x')).toBe(1);
    expect(emitter.listeners('x')).toEqual([listener]);
    emitter.removeListener('x', listener);
    expect(emitter.listenerCount('x')).toBe(0);
    emitter.on('x', listener);
    emitter.off('x', listener);
    emitter.emit('x');
    expect(calls).toBe(0);
  });

  it('fires once listeners exactly once, in the bound context, and lets them be removed before firing', () => {
    const emitter = context.bind(ctxWith('once'), new EventEmitter());
    const seen: unknown[] = [];
    emitter.once('y', () => seen.push(current()));
    emitter.emit('y');
    emitter.emit('y');
    expect(seen).toEqual(['once']);
    expect(emitter.listenerCount('y')).toBe(0);

    const never = () => seen.push('never');
    emitter.once('z', never);
    emitter.prependOnceListener('z', never);
    emitter.removeListener('z', never);
    emitter.removeListener('z', never);
    emitter.emit('z');
    expect(seen).toEqual(['once']);
  });

  it('clears its bookkeeping with removeAllListeners', () => {
    const emitter = context.bind(ctxWith('all'), new EventEmitter());
    emitter.on('a', () => undefined);
    emitter.on('b', () => undefined);
    emitter.removeAllListeners('a');
    expect(emitter.listenerCount('a')).toBe(0);
    expect(emitter.listenerCount('b')).toBe(1);
    emitter.removeAllListeners();
    expect(emitter.listenerCount('b')).toBe(0);
  });

  it('uses the latest context when bound again', () => {
    const emitter = new EventEmitter();
    context.bind(ctxWith('first'), emitter);
    context.bind(ctxWith('second'), emitter);
    let seen: unknown;
    emitter.on('e', () => (seen = current()));
    emitter.emit('e');
    expect(seen).toBe('second');
  });
});
