import type { InstrumentationContext } from '../../src/instrumentation/types';
import { activeSpanContext, hasTraceField, traceFields, type LogCorrelationSettings } from '../shared/log-correlation';

/** pino's mixin: called for every record with the object passed to the log call, the level and (pino 8+) the logger. */
export type Mixin = (mergeObject: object, level: number, logger?: unknown) => object;
/** pino's mixinMergeStrategy: combines the log call's object with the mixin's. */
export type MergeStrategy = (mergeObject: object, mixinObject: object) => object;

/** The two per-logger slots pino reads on every record (its `pino.mixin` and `pino.mixinMergeStrategy` symbols). */
export interface MixinSlots {
  readonly mixin: symbol;
  readonly mergeStrategy: symbol;
}

/**
 * What the mixin returns when it adds nothing. The merge strategy recognises it by identity and
 * hands pino the log call's own object: outside a span a record is exactly what it was without
 * the agent, and costs no object.
 */
const NO_FIELDS: object = Object.freeze({});

const TRACE_MIXIN = Symbol('tracelet.pino.traceMixin');

/**
 * Gives a root logger the trace mixin, combined with the application's mixin and merge strategy
 * (child loggers inherit both slots from their root). Idempotent.
 */
export function addTraceMixin(logger: Record<symbol, unknown>, slots: MixinSlots, ctx: InstrumentationContext<LogCorrelationSettings>): void {
  const current = logger[slots.mixin] as Mixin | undefined;
  if (typeof current === 'function' && (current as unknown as Record<symbol, unknown>)[TRACE_MIXIN] === true) return;
  const userStrategy = logger[slots.mergeStrategy] as MergeStrategy | undefined;
  logger[slots.mixin] = traceMixin(typeof current === 'function' ? current : undefined, ctx);
  logger[slots.mergeStrategy] = mergeStrategy(typeof userStrategy === 'function' ? userStrategy : undefined);
}

/**
 * The application's mixin first (called exactly as pino would), then the span's ids, unless the
 * log call's object or the application's mixin already carries any of the fields: a value the
 * application set itself is never overwritten, nor mixed with ours.
 */
function traceMixin(userMixin: Mixin | undefined, ctx: InstrumentationContext<LogCorrelationSettings>): Mixin {
  const mixin = function (this: unknown, mergeObject: object): object {
    // pass pino's arguments on untouched, without an array per record
    const own = userMixin === undefined ? NO_FIELDS : (Reflect.apply(userMixin, this, arguments) as object);
    if (!ctx.enabled) return own;
    let fields: object | undefined;
    try {
      const spanContext = activeSpanContext();
      if (spanContext !== undefined && !hasTraceField(mergeObject) && !hasTraceField(own)) fields = traceFields(spanContext);
    } catch (error) {
      ctx.reportError(error);
    }
    if (fields === undefined) return own;
    // A fresh object: the application's mixin may return a shared one, which must not collect ids.
    return own === NO_FIELDS ? fields : Object.assign(fields, own);
  };
  Object.defineProperty(mixin, TRACE_MIXIN, { value: true });
  return mixin;
}

/** pino's own rule (the log call's fields win), or the application's strategy; NO_FIELDS leaves the log call's object as it is. */
function mergeStrategy(userStrategy: MergeStrategy | undefined): MergeStrategy {
  return function (mergeObject, mixinObject) {
    if (mixinObject === NO_FIELDS) return mergeObject;
    return userStrategy === undefined ? Object.assign(mixinObject, mergeObject) : userStrategy(mergeObject, mixinObject);
  };
}
