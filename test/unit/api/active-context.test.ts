import type { Context, ContextManager } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { agentContext, setContextManager } from '../../../src/api/active';
import { createContextKey, ROOT_CONTEXT } from '../../../src/api/context';
import { AsyncLocalStorageContextManager } from '../../../src/context/async-local-storage-context-manager';

const KEY = createContextKey('active-context test');
const marked = ROOT_CONTEXT.setValue(KEY, 'marked');

function reportingCall(this: { base: number }, a: number, b: number) {
  return { sum: this.base + a + b, value: agentContext.active().getValue(KEY) };
}

afterEach(() => setContextManager(undefined));

describe("the agent's own context handle", () => {
  it('apply() runs fn with the context active, its this and its arguments object as given', async () => {
    setContextManager(new AsyncLocalStorageContextManager());
    const result = (function (this: unknown, _a: number, _b: number) {
      return agentContext.apply(marked, reportingCall, { base: 1 }, arguments);
    })(2, 3);
    expect(result).toEqual({ sum: 6, value: 'marked' });
    expect(agentContext.active()).toBe(ROOT_CONTEXT);
    // The context follows what fn started.
    const later = await agentContext.apply(marked, () => Promise.resolve().then(() => agentContext.active().getValue(KEY)), undefined, []);
    expect(later).toBe('marked');
  });

  it('with() passes extra arguments through the same path', () => {
    setContextManager(new AsyncLocalStorageContextManager());
    expect(agentContext.with(marked, reportingCall, { base: 10 }, 1, 2)).toEqual({ sum: 13, value: 'marked' });
    expect(agentContext.with(marked, () => agentContext.active().getValue(KEY))).toBe('marked');
  });

  it('apply() works with a context manager that only has with() (registered by someone else)', () => {
    let active: Context = ROOT_CONTEXT;
    const foreign: ContextManager = {
      active: () => active,
      with(ctx, fn, thisArg, ...args) {
        const previous = active;
        active = ctx;
        try {
          return fn.apply(thisArg, args);
        } finally {
          active = previous;
        }
      },
      bind: (_ctx, target) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    setContextManager(foreign);
    expect(agentContext.apply(marked, reportingCall, { base: 0 }, [4, 5])).toEqual({ sum: 9, value: 'marked' });
    expect(active).toBe(ROOT_CONTEXT);
  });

  it('apply() without a context manager just calls fn', () => {
    expect(agentContext.apply(marked, reportingCall, { base: 1 }, [1, 1])).toEqual({ sum: 3, value: undefined });
  });

  it('bindCallback() runs the callback in the context it was bound to, with the this and arguments of each call', () => {
    setContextManager(new AsyncLocalStorageContextManager());
    const bound = agentContext.bindCallback(marked, reportingCall);
    expect(bound.call({ base: 1 }, 2, 3)).toEqual({ sum: 6, value: 'marked' });
    expect(agentContext.active()).toBe(ROOT_CONTEXT);
  });

  it('bindCallback() falls back to the context manager bind(), or to the callback itself without one', () => {
    expect(agentContext.bindCallback(marked, reportingCall)).toBe(reportingCall);
    let boundTo: Context | undefined;
    setContextManager({
      active: () => ROOT_CONTEXT,
      with: (_ctx, fn, thisArg, ...args) => fn.apply(thisArg, args),
      bind(ctx, target) {
        boundTo = ctx;
        return target;
      },
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    });
    expect(agentContext.bindCallback(marked, reportingCall)).toBe(reportingCall);
    expect(boundTo).toBe(marked);
  });
});
