import type { Context, Span } from '@opentelemetry/api';
import { agentContext, setSpan, SpanKind } from '../../src/instrumentation/api';
import type { FrameworkSettings } from '../../src/instrumentation/framework';
import { endWithResponse } from '../../src/instrumentation/http-server-request';
import { isThenable, type Outcome } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { ATTR_CODE_FUNCTION_NAME, ATTR_NESTJS_TYPE } from '../../src/semconv';
import { endFailed } from './failure';
import { isObservable, spanningObservable } from './observable';

/** What a NestJS span stands for (nestjs.type). */
export type NestSpanType = 'handler' | 'guard' | 'interceptor' | 'pipe';

/**
 * Runs `fn` inside a new INTERNAL span, child of the active context, and ends the span with what
 * it gives (see settle). `describe(span, parent, detail)` adds a recording span's attributes beyond
 * nestjs.type and code.function.name (a module-level function: no closure per call). Any failure of the agent's own work leaves the call to `fn` alone.
 */
export function runInNestSpan<D>(
  spanName: string,
  type: NestSpanType,
  functionName: string,
  fn: Function,
  self: unknown,
  args: ArrayLike<unknown>,
  ctx: InstrumentationContext<FrameworkSettings>,
  outcome: Outcome,
  describe?: (span: Span, parent: Context, detail: D) => void,
  detail?: D,
): unknown {
  let span: Span | undefined;
  let context: Context | undefined;
  try {
    const parent = agentContext.active();
    span = ctx.tracer.startSpan(spanName, { kind: SpanKind.INTERNAL }, parent);
    if (span.isRecording()) {
      span.setAttribute(ATTR_NESTJS_TYPE, type);
      span.setAttribute(ATTR_CODE_FUNCTION_NAME, functionName);
      describe?.(span, parent, detail as D);
    }
    context = setSpan(parent, span);
  } catch (error) {
    ctx.reportError(error);
  }
  if (span === undefined || context === undefined) return Reflect.apply(fn, self, args);
  let result: unknown;
  try {
    result = agentContext.apply(context, fn as (...a: unknown[]) => unknown, self, args as unknown[]);
  } catch (error) {
    endFailed(outcome, span, context, error);
    throw error;
  }
  // Not recording (a sampler deciding otherwise below the server span): nothing to end, nothing to wait for.
  if (!span.isRecording()) return result;
  return settle(type, result, span, context, outcome);
}

/**
 * Ends the span with the call's result: at once for a value, when it settles for a promise, when
 * it completes for an Observable (its work runs when Nest subscribes, under the span). A pipe's
 * result is the handler's argument: handed over as it is, whatever it is; a handler's, guard's or
 * interceptor's promise is replaced by one settled alike, for the Observable it may give (Nest
 * awaits either).
 */
function settle(type: NestSpanType, result: unknown, span: Span, context: Context, outcome: Outcome): unknown {
  if (!isThenable(result)) return settleValue(type, result, span, context, outcome);
  if (type === 'pipe') {
    try {
      void result.then(
        () => outcome.end(span),
        (error: unknown) => endFailed(outcome, span, context, error),
      );
    } catch (failure) {
      outcome.ctx.reportError(failure);
      outcome.end(span);
    }
    return result;
  }
  return result.then(
    (value) => settleValue(type, value, span, context, outcome),
    (error: unknown) => {
      endFailed(outcome, span, context, error);
      throw error;
    },
  );
}

function settleValue(type: NestSpanType, value: unknown, span: Span, context: Context, outcome: Outcome): unknown {
  if (type !== 'pipe' && isObservable(value)) {
    try {
      const spanning = spanningObservable(value, span, context, outcome);
      // Nothing is left open should Nest never subscribe (a response sent through @Res(), an exception elsewhere first).
      endWithResponse(context, span);
      return spanning;
    } catch (error) {
      outcome.ctx.reportError(error);
    }
  }
  outcome.end(span);
  return value;
}
