import type { Context, ContextManager, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { ROOT_CONTEXT } from './context';

/**
 * The agent's own handles on the active context manager and propagator: what the core and the
 * instrumentations call on every request, with no lookup through @opentelemetry/api's global.
 */
let manager: ContextManager | undefined;
let applying: ApplyingContextManager | undefined;
let propagator: TextMapPropagator | undefined;

/** A context manager that runs `fn.apply(thisArg, args)` in a context without copying `args` (the agent's own). */
export interface ApplyingContextManager extends ContextManager {
  apply(ctx: Context, fn: Function, thisArg: unknown, args: ArrayLike<unknown>): unknown;
}

export function setContextManager(next: ContextManager | undefined): void {
  manager = next;
  applying =
    next !== undefined && typeof (next as Partial<ApplyingContextManager>).apply === 'function' ? (next as ApplyingContextManager) : undefined;
}

export function setPropagator(next: TextMapPropagator | undefined): void {
  propagator = next;
}

export const agentContext = {
  active(): Context {
    return manager === undefined ? ROOT_CONTEXT : manager.active();
  },
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    if (manager === undefined) return fn.apply(thisArg, args);
    // The rest array is already a copy: hand it over instead of spreading it again.
    if (applying !== undefined && args.length > 0) return applying.apply(ctx, fn, thisArg, args) as ReturnType<F>;
    return manager.with(ctx, fn, thisArg, ...args);
  },
  /**
   * `fn.apply(thisArg, args)` with `ctx` active: what wrappers of emit and of handlers call on
   * every request, so it passes their `arguments` along as they are.
   */
  apply(ctx: Context, fn: Function, thisArg: unknown, args: ArrayLike<unknown>): unknown {
    if (applying !== undefined) return applying.apply(ctx, fn, thisArg, args);
    if (manager === undefined) return Reflect.apply(fn, thisArg, args);
    return manager.with(ctx, () => Reflect.apply(fn, thisArg, args));
  },
  bind<T>(ctx: Context, target: T): T {
    return manager === undefined ? target : manager.bind(ctx, target);
  },
  /**
   * A callback handed to a library, run in `ctx` whenever the library calls it. Unlike bind() it
   * does not copy the callback's `length` (a library calls its callbacks, it does not read their
   * arity), which spares a property definition on every call made with a callback.
   */
  bindCallback<F extends Function>(ctx: Context, callback: F): F {
    const runner = applying;
    if (runner === undefined) return agentContext.bind(ctx, callback);
    return function (this: unknown) {
      return runner.apply(ctx, callback, this, arguments);
    } as unknown as F;
  },
};

/** Any carrier is read and written as a plain object of header values, as @opentelemetry/api's defaults do. */
type HeaderObject = Record<string, string | string[] | undefined>;

const defaultGetter: TextMapGetter<unknown> = {
  get(carrier, key) {
    return carrier == null ? undefined : (carrier as HeaderObject)[key];
  },
  keys(carrier) {
    return carrier == null ? [] : Object.keys(carrier);
  },
};

const defaultSetter: TextMapSetter<unknown> = {
  set(carrier, key, value) {
    if (carrier != null) (carrier as HeaderObject)[key] = value;
  },
};

export const agentPropagation = {
  inject<Carrier>(ctx: Context, carrier: Carrier, setter: TextMapSetter<Carrier> = defaultSetter): void {
    propagator?.inject(ctx, carrier, setter);
  },
  extract<Carrier>(ctx: Context, carrier: Carrier, getter: TextMapGetter<Carrier> = defaultGetter): Context {
    return propagator === undefined ? ctx : propagator.extract(ctx, carrier, getter);
  },
  fields(): string[] {
    return propagator?.fields() ?? [];
  },
};
