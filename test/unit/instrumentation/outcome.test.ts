import { afterAll, describe, expect, it } from 'vitest';
import { agentContext, createContextKey, ROOT_CONTEXT } from '../../../src/instrumentation/api';
import { NonRecordingSpan } from '../../../src/api/trace';
import { describeError, errorMessage, errorType, isThenable, Outcome, outcomeOf } from '../../../src/instrumentation/outcome';
import { installContextManager, removeContextManager } from '../../helpers/context';
import { testProvider } from '../../helpers/in-memory';
import { instrumentationContext } from '../../helpers/instrumentation-context';

installContextManager();
afterAll(() => removeContextManager());
const { tracer, processor } = testProvider();
const finished = (name: string) => processor.spans.find((span) => span.name === name)!;
const KEY = createContextKey('caller');

describe('the default failure description', () => {
  it('takes error.type from a string code, else the name, else _OTHER', () => {
    expect(errorType(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorType(Object.assign(new Error('aborted'), { name: 'AbortError', code: 20 }))).toBe('AbortError');
    expect(errorType({})).toBe('_OTHER');
    expect(errorType('boom')).toBe('_OTHER');
    expect(errorType(undefined)).toBe('_OTHER');
  });

  it('reads a message from strings and message properties only', () => {
    expect(errorMessage('boom')).toBe('boom');
    expect(errorMessage(new Error('bad'))).toBe('bad');
    expect(errorMessage({ message: 42 })).toBeUndefined();
    expect(describeError('boom')).toEqual({ type: '_OTHER', message: 'boom', exception: undefined });
  });

  it('knows a thenable', () => {
    expect(isThenable(Promise.resolve())).toBe(true);
    expect(isThenable({ then: () => undefined })).toBe(true);
    expect(isThenable({ then: 1 })).toBe(false);
    expect(isThenable(null)).toBe(false);
  });
});

describe('Outcome', () => {
  const ctx = instrumentationContext({ name: 'outcome-test' }, tracer);
  const outcome = new Outcome(ctx);

  it('ends a span once: later endings of an ended span change nothing', () => {
    const span = tracer.startSpan('once');
    outcome.end(span);
    outcome.fail(span, new Error('late'));
    expect(finished('once').status.code).toBe(0);
    expect(processor.spans.filter((s) => s.name === 'once')).toHaveLength(1);
  });

  it('promise(): settles like the library promise, after the span ended, and keeps a rejection unhandled', async () => {
    const span = tracer.startSpan('resolved');
    await expect(outcome.promise(span, Promise.resolve(7))).resolves.toBe(7);
    expect(finished('resolved').endTime).toBeDefined();

    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const failure = new Error('nobody listens');
      void outcome.promise(tracer.startSpan('ignored'), Promise.reject(failure));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([failure]);
      expect(finished('ignored').attributes['error.type']).toBe('Error');
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('observe(): ends with the promise and never makes an unhandled rejection of its own', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const rejected = Promise.reject(new TypeError('handled by its owner'));
      outcome.observe(tracer.startSpan('observed'), rejected);
      await rejected.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      expect(finished('observed').attributes['error.type']).toBe('TypeError');
    } finally {
      process.off('unhandledRejection', listener);
    }
  });

  it('promise(), observe() and call() add nothing to the promise of an unsampled span, which has nothing to end', async () => {
    const unsampled = new NonRecordingSpan();
    const library = Promise.resolve('rows');
    let handlersAdded = 0;
    const watched = Object.assign(library, {
      then(...args: Parameters<Promise<string>['then']>) {
        handlersAdded++;
        return Promise.prototype.then.apply(library, args);
      },
    });
    expect(outcome.promise(unsampled, watched)).toBe(watched);
    outcome.observe(unsampled, watched);
    expect(outcome.call(unsampled, () => watched, undefined, [], false)).toBe(watched);
    expect(handlersAdded).toBe(0);
    // A recording span still gets the derived promise.
    expect(outcome.promise(tracer.startSpan('recording'), watched)).not.toBe(watched);
    expect(handlersAdded).toBe(1);
    await watched;
  });

  it('callback(): ends the span, then calls the caller back in its own context with the same this and arguments', () => {
    const span = tracer.startSpan('callback');
    const caller = ROOT_CONTEXT.setValue(KEY, 'caller');
    let seen: { self?: unknown; args?: unknown[]; value?: unknown; ended?: boolean } = {};
    const wrapped = outcome.callback(span, caller, function (this: unknown, ...args: unknown[]) {
      seen = { self: this, args, value: agentContext.active().getValue(KEY), ended: !span.isRecording() };
      return 'returned';
    });
    const self = {};
    expect(wrapped.call(self, null, 'rows')).toBe('returned');
    expect(seen).toEqual({ self, args: [null, 'rows'], value: 'caller', ended: true });
  });

  it('call(): a synchronous throw fails the span and is rethrown as it is; a plain result ends it at once', () => {
    const failure = new RangeError('bad argument');
    expect(() =>
      outcome.call(
        tracer.startSpan('threw'),
        () => {
          throw failure;
        },
        undefined,
        [],
        false,
      ),
    ).toThrow(failure);
    expect(finished('threw').attributes['error.type']).toBe('RangeError');
    expect(outcome.call(tracer.startSpan('plain'), (a) => a, undefined, ['value'], false)).toBe('value');
    expect(finished('plain').endTime).toBeDefined();
  });

  it('swallows and reports a failing description or success hook: the span still ends, the result is unchanged', async () => {
    const failing = instrumentationContext({ name: 'failing' }, tracer);
    const broken = new Outcome(
      failing,
      () => {
        throw new Error('describe bug');
      },
      () => {
        throw new Error('onSuccess bug');
      },
    );
    const rejected = new Error('the application error');
    await expect(broken.promise(tracer.startSpan('broken-reject'), Promise.reject(rejected))).rejects.toBe(rejected);
    await expect(broken.promise(tracer.startSpan('broken-resolve'), Promise.resolve('ok'))).resolves.toBe('ok');
    expect(finished('broken-reject').endTime).toBeDefined();
    expect(finished('broken-resolve').endTime).toBeDefined();
    expect(failing.errors.map((error) => (error as Error).message)).toEqual(['describe bug', 'onSuccess bug']);
  });

  it('outcomeOf(): one Outcome per context, description and success hook', () => {
    expect(outcomeOf(ctx)).toBe(outcomeOf(ctx));
    expect(outcomeOf(ctx, describeError)).toBe(outcomeOf(ctx));
    expect(outcomeOf(ctx, () => ({}))).not.toBe(outcomeOf(ctx));
    const onSuccess = () => undefined;
    expect(outcomeOf(ctx, describeError, onSuccess)).not.toBe(outcomeOf(ctx));
    expect(outcomeOf(ctx, describeError, onSuccess)).toBe(outcomeOf(ctx, describeError, onSuccess));
  });
});
