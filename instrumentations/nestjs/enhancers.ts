import type { Context } from '@opentelemetry/api';
import { agentContext, getSpan } from '../../src/instrumentation/api';
import type { FrameworkSettings } from '../../src/instrumentation/framework';
import type { Outcome } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { runInNestSpan, type NestSpanType } from './span';

/**
 * With `all`: a span for each guard (`guard AuthGuard`), interceptor (`interceptor
 * TimingInterceptor`) and pipe (`pipe ParseIntPipe`) that ran. The router's consumers loop over a
 * route's enhancers and call their one method (canActivate, intercept, transform); the
 * instrumentation hands them, in place of each enhancer, a stand-in (an object whose prototype is
 * the enhancer, so anything else read off it is the enhancer's) whose method calls the enhancer's
 * own, with the enhancer as `this`, inside its span. Stand-ins are made once per enhancer (and
 * lists once per list), so a sampled request allocates only its spans; an unsampled one gets the
 * enhancers themselves.
 *
 * A span covers the enhancer's work, not only its call: a pipe's promise until it settles, a
 * guard's Observable (or the one its promise gives) until Nest has its answer, an interceptor's
 * Observable (or the one its promise gives) until it completes, which includes the handler: the
 * handler span is the interceptor's child. A failure (a guard or pipe throwing ForbiddenException or
 * BadRequestException, an interceptor's Observable failing) is recorded where it happened.
 */

export type EnhancerKind = Exclude<NestSpanType, 'handler'>;

const METHODS: Record<EnhancerKind, string> = { guard: 'canActivate', interceptor: 'intercept', pipe: 'transform' };

type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * The stand-ins made, by kind then enhancer (one object may be both a guard and an interceptor);
 * and the stand-in lists, by the route's list (a list holds one kind).
 */
const standIns: Record<EnhancerKind, WeakMap<object, object>> = { guard: new WeakMap(), interceptor: new WeakMap(), pipe: new WeakMap() };
const standInLists = new WeakMap<readonly unknown[], unknown[]>();

/** True when there is a sampled request to trace enhancers in (the active span records). */
function recording(active: Context): boolean {
  return getSpan(active)?.isRecording() === true;
}

/** A short name for an enhancer: its class name (`anonymous` for a plain object or a nameless class). */
export function enhancerName(enhancer: object): string {
  const name = (enhancer as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : 'anonymous';
}

/**
 * The stand-in list for a route's enhancers (the same list object, request after request, for
 * guards and interceptors), or the list itself when there is nothing to trace.
 */
function standInList(
  kind: EnhancerKind,
  list: unknown,
  active: Context,
  ctx: InstrumentationContext<FrameworkSettings>,
  outcome: Outcome,
  cache: boolean,
): unknown {
  if (!Array.isArray(list) || list.length === 0 || !recording(active)) return list;
  const cached = cache ? standInLists.get(list) : undefined;
  if (cached !== undefined) return cached;
  const made = list.map((enhancer: unknown) => standIn(kind, enhancer, ctx, outcome));
  if (cache) standInLists.set(list, made);
  return made;
}

function standIn(kind: EnhancerKind, enhancer: unknown, ctx: InstrumentationContext<FrameworkSettings>, outcome: Outcome): unknown {
  if (enhancer === null || typeof enhancer !== 'object') return enhancer;
  const methodName = METHODS[kind];
  if (typeof (enhancer as Record<string, unknown>)[methodName] !== 'function') return enhancer;
  let made = standIns[kind].get(enhancer);
  if (made !== undefined) return made;
  const spanName = `${kind} ${enhancerName(enhancer)}`;
  made = Object.create(enhancer) as object;
  Object.defineProperty(made, methodName, {
    configurable: true,
    writable: true,
    value: function (this: unknown) {
      // Read at each call: an enhancer whose method was replaced since is called as it is now.
      const method = (enhancer as Record<string, Method>)[methodName]!;
      return traceCall(kind, spanName, methodName, enhancer, method, arguments, ctx, outcome);
    },
  });
  standIns[kind].set(enhancer, made);
  return made;
}

/** One enhancer's call, in its span: the method runs with the enhancer as `this` and its arguments unchanged. */
function traceCall(
  kind: EnhancerKind,
  spanName: string,
  methodName: string,
  enhancer: object,
  method: Method,
  args: IArguments,
  ctx: InstrumentationContext<FrameworkSettings>,
  outcome: Outcome,
): unknown {
  // A stand-in handed out before the instrumentation was switched off steps aside.
  if (!ctx.enabled) return Reflect.apply(method, enhancer, args);
  return runInNestSpan(spanName, kind, methodName, method, enhancer, args, ctx, outcome);
}

/** The router's guards of a route, as GuardsConsumer.tryActivate gets them. */
export function tracedGuards(guards: unknown, active: Context, ctx: InstrumentationContext<FrameworkSettings>, outcome: Outcome): unknown {
  return standInList('guard', guards, active, ctx, outcome, true);
}

/** The router's interceptors of a route, as InterceptorsConsumer.intercept gets them. */
export function tracedInterceptors(
  interceptors: unknown,
  active: Context,
  ctx: InstrumentationContext<FrameworkSettings>,
  outcome: Outcome,
): unknown {
  return standInList('interceptor', interceptors, active, ctx, outcome, true);
}

/** The pipes of one parameter, as PipesConsumer.applyPipes gets them (a list Nest makes for each call). */
export function tracedPipes(pipes: unknown, active: Context, ctx: InstrumentationContext<FrameworkSettings>, outcome: Outcome): unknown {
  return standInList('pipe', pipes, active, ctx, outcome, false);
}

type Consumer = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Wraps a consumer method whose argument at `index` is the list of enhancers it runs: the same
 * call, given the stand-ins.
 */
export function tracedConsumer(
  index: number,
  trace: (list: unknown, active: Context, ctx: InstrumentationContext<FrameworkSettings>, outcome: Outcome) => unknown,
  ctx: InstrumentationContext<FrameworkSettings>,
  outcome: Outcome,
) {
  return (original: Consumer): Consumer =>
    function consume(this: unknown) {
      const list = arguments[index];
      if (!Array.isArray(list) || list.length === 0) return Reflect.apply(original, this, arguments);
      let args: unknown[] | undefined;
      try {
        const traced = trace(list, agentContext.active(), ctx, outcome);
        if (traced !== list) {
          args = Array.prototype.slice.call(arguments);
          args[index] = traced;
        }
      } catch (error) {
        ctx.reportError(error);
        args = undefined;
      }
      return Reflect.apply(original, this, args ?? arguments);
    };
}
