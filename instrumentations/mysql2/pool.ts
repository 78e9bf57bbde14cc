import type { Span } from '@opentelemetry/api';
import { agentContext, SpanKind } from '../../src/instrumentation/api';
import { Outcome, type AnyFunction } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';
import { ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_MYSQL } from '../../src/semconv';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import { setConnectionAttributes, type MysqlConnection } from './connection';
import { describeMysqlFailure } from './failure';

/**
 * Span name for the time a caller waits for a pooled connection, opening one included: not a
 * database operation the conventions name, so INTERNAL, not CLIENT (backends count CLIENT spans
 * with db.system.name as calls to the database).
 */
export const ACQUIRE_SPAN_NAME = 'mysql2.pool.acquire';
const ACQUIRE_OPTIONS = { kind: SpanKind.INTERNAL };

/**
 * pool.getConnection, which pool.query, pool.execute, the promise pool and pool clusters all go
 * through: an INTERNAL span while the caller waits. A released connection is handed to the next
 * waiter from inside the request that released it (process.nextTick), so the waiter's callback
 * is bound back to its own caller's context; without that, a queued query joins the trace of the
 * request that freed the connection.
 */
export function patchPool(prototype: { getConnection: AnyFunction }, ctx: InstrumentationContext<DatabaseSettings>): void {
  const outcome = new Outcome(ctx, describeMysqlFailure, describeConnection);
  wrap(
    ctx,
    prototype,
    'getConnection',
    (original: AnyFunction) =>
      function getConnection(this: unknown, callback: unknown) {
        if (typeof callback !== 'function') return original.apply(this, arguments as unknown as unknown[]);
        const caller = agentContext.active();
        let span: Span | undefined;
        let bound: AnyFunction;
        try {
          const parent = databaseSpanParent(ctx, caller);
          if (parent !== undefined) {
            span = ctx.tracer.startSpan(ACQUIRE_SPAN_NAME, ACQUIRE_OPTIONS, parent);
            // The server's own name (mariadb) replaces it once a connection is handed over.
            if (span.isRecording()) span.setAttribute(ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_MYSQL);
          }
          bound =
            span === undefined ? agentContext.bindCallback(caller, callback as AnyFunction) : outcome.callback(span, caller, callback as AnyFunction);
        } catch (error) {
          ctx.reportError(error);
          if (span !== undefined) outcome.end(span);
          return original.apply(this, arguments as unknown as unknown[]);
        }
        return span === undefined ? original.call(this, bound) : outcome.call(span, original, this, [bound], true);
      },
  );
}

/** Once a connection is handed over, the acquisition span says where it goes and to which server. */
function describeConnection(span: Span, connection: unknown): void {
  if (typeof connection === 'object' && connection !== null) setConnectionAttributes(span, connection as MysqlConnection);
}
