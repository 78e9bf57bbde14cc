import { agentContext, setSpan, SpanKind } from '../../src/instrumentation/api';
import { endWithResponse } from '../../src/instrumentation/http-server-request';
import { isThenable } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { ATTR_CODE_FUNCTION_NAME, ATTR_FASTIFY_HOOK_NAME, ATTR_FASTIFY_PLUGIN_NAME } from '../../src/semconv';
import type { FrameworkSettings } from '../../src/instrumentation/framework';
import { dressAs, isTracedWrapper, stateOf } from './request-state';

/** The request lifecycle hooks that get a span of their own. */
export const TRACED_HOOKS: ReadonlySet<string> = new Set(['onRequest', 'preParsing', 'preValidation', 'preHandler', 'preSerialization', 'onSend']);

/** Any hook: Fastify's hooks take (request, reply[, payload][, done]) in many shapes. */
type HookFunction = (this: never, ...args: never[]) => unknown;

/**
 * Wraps a request hook so each call is an INTERNAL span, child of the request's server span and
 * active while the hook (and what it awaits) runs. The wrapper looks like the hook to Fastify:
 * same length and, for an async hook, an async function, so Fastify validates and runs it as it
 * would the original. The hook's span ends with the first of: its `done` being called, or its
 * promise settling; an error either way is recorded on it.
 */
export function wrapHook<F extends HookFunction>(
  hookName: string,
  hook: F,
  pluginName: string | undefined,
  ctx: InstrumentationContext<FrameworkSettings>,
): F {
  if (typeof hook !== 'function' || isTracedWrapper(hook)) return hook;
  const functionName = hook.name || undefined;
  const spanName = `${hookName} ${functionName ?? pluginName ?? 'anonymous'}`;

  function traced(this: unknown, ...args: unknown[]): unknown {
    const state = stateOf(args[0]);
    if (state === undefined) return Reflect.apply(hook, this, args);
    const span = ctx.tracer.startSpan(spanName, { kind: SpanKind.INTERNAL }, state.serverContext);
    const spanContext = setSpan(state.serverContext, span);
    // An unsampled span has nothing to end: the hook only runs in its context.
    if (!span.isRecording()) return agentContext.apply(spanContext, hook, this, args);
    span.setAttribute(ATTR_FASTIFY_HOOK_NAME, hookName);
    if (functionName !== undefined) span.setAttribute(ATTR_CODE_FUNCTION_NAME, functionName);
    if (pluginName !== undefined) span.setAttribute(ATTR_FASTIFY_PLUGIN_NAME, pluginName);
    const outcome = state.outcome;
    // Fastify always passes `done` last; a hook either calls it or returns a promise.
    const last = args.length - 1;
    const done = args[last];
    if (typeof done === 'function') {
      args[last] = function tracedDone(this: unknown, error: unknown) {
        outcome.end(span, error);
        return Reflect.apply(done, this, arguments);
      };
    }
    let result: unknown;
    try {
      result = agentContext.apply(spanContext, hook, this, args);
    } catch (error) {
      outcome.fail(span, error);
      throw error;
    }
    if (result instanceof Promise) outcome.observe(span, result);
    // A lazy thenable does its work on each `then` (Fastify calls it once): it ends with the response.
    else if (isThenable(result)) endWithResponse(state.serverContext, span);
    return result;
  }

  const wrapper =
    hook.constructor.name === 'AsyncFunction'
      ? async function (this: unknown, ...args: unknown[]) {
          return traced.apply(this, args);
        }
      : traced;
  return dressAs(wrapper, hook) as unknown as F;
}
