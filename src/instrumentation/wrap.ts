import shimmer from 'shimmer';
import { diag } from '../diag/logger';
import { WRAPPED as kWrapped } from './wrapped';

shimmer({ logger: (message: string) => diag.debug(`shimmer: ${message}`) });

/** The instrumentation a wrapper belongs to (its InstrumentationContext): whether it is still on. */
export interface WrapperOwner {
  readonly enabled: boolean;
}

/**
 * Replaces target[name] with wrapper(original), keeping the property's enumerability. While
 * `owner` is switched off (see InstrumentationContext.enabled), calls go straight to the
 * original. Refuses (returns false, says why at debug level) when there is no function there,
 * when it is already wrapped by this agent, or when the property cannot be replaced.
 */
export function wrap<T extends object, F extends Function = Function>(
  owner: WrapperOwner,
  target: T,
  name: (keyof T & string) | symbol,
  wrapper: (original: F) => Function,
): boolean {
  const original = (target as Record<string | symbol, unknown>)[name];
  if (typeof original !== 'function') {
    diag.debug(`not wrapping ${String(name)}: it is not a function`);
    return false;
  }
  if ((original as unknown as Record<symbol, unknown>)[kWrapped] === true) return false;
  const descriptor = Object.getOwnPropertyDescriptor(target, name);
  if (descriptor !== undefined && !descriptor.configurable && !descriptor.writable) {
    diag.debug(`not wrapping ${String(name)}: the property is read-only`);
    return false;
  }
  const wrapped = shimmer.wrap(target as Record<string, Function>, name as string, (fn: Function) => {
    const traced = wrapper(fn as F);
    const replacement = function (this: unknown) {
      return owner.enabled ? traced.apply(this, arguments as never) : fn.apply(this, arguments as never);
    };
    Object.defineProperty(replacement, 'name', { value: traced.name });
    Object.defineProperty(replacement, 'length', { value: traced.length });
    Object.defineProperty(replacement, kWrapped, { value: true });
    return replacement;
  });
  return wrapped !== undefined;
}

/** Restores what wrap() replaced; does nothing when target[name] is not the agent's wrapper. */
export function unwrap<T extends object>(target: T, name: (keyof T & string) | symbol): void {
  const current = (target as Record<string | symbol, unknown>)[name] as Record<string | symbol, unknown> | undefined;
  if (typeof current === 'function' && current[kWrapped] === true) shimmer.unwrap(target as Record<string, Function>, name as string);
}

/** True when target[name] is the agent's wrapper. */
export function isWrapped<T extends object>(target: T, name: keyof T & string): boolean {
  const current = (target as Record<string, unknown>)[name] as Record<symbol, unknown> | undefined;
  return typeof current === 'function' && current[kWrapped] === true;
}
