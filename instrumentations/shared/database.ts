import type { Context } from '@opentelemetry/api';
import { agentContext, getSpanContext, isSpanContextValid, isTracingSuppressed } from '../../src/instrumentation/api';
import type { EnvReader, InstrumentationContext } from '../../src/instrumentation/types';

/** The settings every database instrumentation (pg, redis, ioredis) shares. */
export interface DatabaseSettings {
  /**
   * OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN (default true): an operation with no active span
   * (startup migrations, timers, queue workers) makes no span.
   */
  readonly requireParentSpan: boolean;
}

export function readDatabaseSettings(env: EnvReader): DatabaseSettings {
  return { requireParentSpan: env.bool('OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN', true) };
}

/**
 * The one rule every database instrumentation (pg, redis, ioredis) applies before making a span:
 * the context its span starts in, or undefined when the operation is not to be traced. It is
 * not traced inside a suppressed context, nor, while OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN
 * is true (the default), outside any trace: a query a timer or a startup migration runs becomes
 * no trace of its own.
 */
export function databaseSpanParent(ctx: InstrumentationContext<DatabaseSettings>, active: Context = agentContext.active()): Context | undefined {
  if (isTracingSuppressed(active)) return undefined;
  if (ctx.settings.requireParentSpan) {
    const parent = getSpanContext(active);
    if (parent === undefined || !isSpanContextValid(parent)) return undefined;
  }
  return active;
}
