/**
 * Trace ids in winston records: while a span is active, every record a winston 3 logger writes
 * carries `trace_id`, `span_id` and `trace_flags` (OpenTelemetry's log correlation fields) before
 * it goes through the logger's formats, so json, simple, printf and custom formats can all show
 * them, on every transport.
 *
 * What is patched, and why there: Logger.prototype.write in winston's lib/winston/logger.js.
 * Every way of logging ends there, in the caller's context: logger.log(level, msg, meta),
 * logger.log({ level, message }), logger.info(msg, meta), the level methods, profilers, and child
 * loggers (whose own write copies the record with their metadata and passes the copy to this
 * one). Formats run later, when the stream gets to the record, possibly outside the caller's
 * context: the ids are read at write time. An internal file, reached through require also from an
 * ES module application: no import hook.
 *
 * The rules:
 * - No valid active span: the record is not touched.
 * - An unsampled span still gives its ids, with trace_flags '00'.
 * - A record that already has trace_id, span_id or trace_flags (meta, defaultMeta, a child's
 *   metadata) is left as the application made it.
 * - The fields are written into the record object winston passes on (no copy: a copy would lose
 *   what formats test, such as an Error record's class). A record object the application logs
 *   again has the fields it got from us refreshed, or removed outside a span.
 * - OTEL_NODE_LOG_CORRELATION=false leaves winston unpatched.
 *
 * Supported: winston 3.
 */
import type { Instrumentation, InstrumentationContext } from '../../src/instrumentation/types';
import { unwrap, wrap } from '../../src/instrumentation/wrap';
import {
  activeSpanContext,
  deleteTraceFields,
  hasTraceField,
  readLogCorrelationSettings,
  writeTraceFields,
  type LogCorrelationSettings,
} from '../shared/log-correlation';

interface LoggerClass {
  prototype: { write: Function };
}

/**
 * Marks a record whose fields we wrote. A symbol: JSON and formats ignore it; child loggers copy it
 * with the record, so a copy of a record logged again is refreshed too.
 */
const CORRELATED = Symbol('tracelet.winston.correlated');

export const winstonInstrumentation: Instrumentation<LogCorrelationSettings> = {
  name: 'winston',
  readSettings: readLogCorrelationSettings,
  patches: [
    {
      module: 'winston',
      file: 'lib/winston/logger.js',
      versions: '>=3 <4',
      patch(Logger: LoggerClass, ctx) {
        if (!ctx.settings.logCorrelation) return;
        wrap(ctx, Logger.prototype, 'write', (original: Function) => correlatingWrite(original, ctx));
      },
      unpatch(Logger: LoggerClass) {
        unwrap(Logger.prototype, 'write');
      },
    },
  ],
};

function correlatingWrite(original: Function, ctx: InstrumentationContext<LogCorrelationSettings>): Function {
  return function write(this: unknown, record: unknown) {
    try {
      if (typeof record === 'object' && record !== null && Object.isExtensible(record)) correlate(record as Record<string | symbol, unknown>);
    } catch (error) {
      ctx.reportError(error);
    }
    // the stream's write arguments (chunk, encoding, callback) as given
    return Reflect.apply(original, this, arguments) as unknown;
  };
}

function correlate(record: Record<string | symbol, unknown>): void {
  const spanContext = activeSpanContext();
  const ours = record[CORRELATED] === true;
  if (spanContext === undefined) {
    if (ours) forget(record);
    return;
  }
  if (ours || !hasTraceField(record)) {
    writeTraceFields(record, spanContext);
    record[CORRELATED] = true;
  }
}

function forget(record: Record<string | symbol, unknown>): void {
  deleteTraceFields(record);
  delete record[CORRELATED];
}
