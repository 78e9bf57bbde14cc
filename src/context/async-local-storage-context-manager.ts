import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import type { Context } from '@opentelemetry/api';
import type { ApplyingContextManager } from '../api/active';
import { ROOT_CONTEXT } from '../api/context';

type AnyFunction = (...args: unknown[]) => unknown;
/** A listener as Node keeps it: `once` wrappers carry the original as `.listener`. */
type Listener = AnyFunction & { listener?: AnyFunction };

/** Listener methods that add a listener; `once` goes through `on`, so it needs no patch of its own. */
const ADD_METHODS = ['on', 'addListener', 'prependListener'] as const;
const REMOVE_METHODS = ['removeListener', 'off'] as const;

/** Per bound emitter: the context its listeners run in and, per event, listener -> bound listener. */
interface EmitterBinding {
  context: Context;
  readonly listeners: Map<string | symbol, WeakMap<AnyFunction, AnyFunction>>;
}

const kBinding = Symbol('tracelet.emitterBinding');

/**
 * The active context is carried by AsyncLocalStorage, so it follows the application through
 * await, promise chains, timers, setImmediate, process.nextTick and emitter callbacks that
 * Node binds itself. Registered as @opentelemetry/api's global context manager.
 */
export class AsyncLocalStorageContextManager implements ApplyingContextManager {
  /** Exposed so diagnostics_channel TracingChannels can bind their store to the same storage. */
  readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    if (thisArg === undefined && args.length === 0) return this.storage.run(context, fn as () => ReturnType<F>);
    return this.storage.run(context, Reflect.apply, fn, thisArg, args) as ReturnType<F>;
  }

  /** with() for a call whose arguments are already in an array (or `arguments`): no copy of them. */
  apply(context: Context, fn: Function, thisArg: unknown, args: ArrayLike<unknown>): unknown {
    // Emitters re-enter their request's context on every event, mostly from inside it already.
    if (this.storage.getStore() === context) return Reflect.apply(fn, thisArg, args);
    return this.storage.run(context, Reflect.apply, fn, thisArg, args);
  }

  bind<T>(context: Context, target: T): T {
    if (target instanceof EventEmitter) return this.bindEmitter(context, target) as T;
    if (typeof target === 'function') return this.bindFunction(context, target as unknown as AnyFunction) as T;
    return target;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }

  private bindFunction(context: Context, target: AnyFunction): AnyFunction {
    const storage = this.storage;
    const bound = function (this: unknown, ...args: unknown[]): unknown {
      return storage.run(context, Reflect.apply, target, this, args);
    };
    // Keep the function's arity visible to code that inspects it (e.g. middleware signatures).
    Object.defineProperty(bound, 'length', { value: target.length, configurable: true });
    return bound;
  }

  /**
   * Binds an emitter: listeners added from now on run in `context`. Removing a listener with the
   * function the caller added still works, and `once` listeners still fire once.
   */
  private bindEmitter(context: Context, emitter: EventEmitter): EventEmitter {
    const existing = (emitter as EventEmitter & { [kBinding]?: EmitterBinding })[kBinding];
    if (existing !== undefined) {
      existing.context = context;
      return emitter;
    }
    const binding: EmitterBinding = { context, listeners: new Map() };
    Object.defineProperty(emitter, kBinding, { value: binding, configurable: true });

    for (const method of ADD_METHODS) {
      const original = emitter[method];
      const manager = this;
      emitter[method] = function (this: EventEmitter, event: string | symbol, listener: Listener) {
        if (typeof listener !== 'function') return original.call(this, event, listener);
        let perEvent = binding.listeners.get(event);
        if (perEvent === undefined) {
          perEvent = new WeakMap();
          binding.listeners.set(event, perEvent);
        }
        const bound = manager.bindFunction(binding.context, listener);
        // Node matches `.listener` when removing and listing, so removal by the original works.
        (bound as Listener).listener = listener.listener ?? listener;
        perEvent.set(listener, bound);
        return original.call(this, event, bound);
      };
    }
    for (const method of REMOVE_METHODS) {
      const original = emitter[method];
      emitter[method] = function (this: EventEmitter, event: string | symbol, listener: Listener) {
        const bound = binding.listeners.get(event)?.get(listener);
        return original.call(this, event, bound ?? listener);
      };
    }
    const removeAll = emitter.removeAllListeners;
    emitter.removeAllListeners = function (this: EventEmitter, event?: string | symbol) {
      if (event === undefined) binding.listeners.clear();
      else binding.listeners.delete(event);
      return event === undefined ? removeAll.call(this) : removeAll.call(this, event);
    };
    return emitter;
  }
}
